using System.Reflection;
using Airlock.Gateway.Sessions;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Tests.Logging;

/// <summary>Operators filter and alert on a log line's event id; two messages sharing one id
/// make such a filter catch the wrong thing (an authentication failure counted as a full
/// recording queue). Every id the gateway logs with is its own.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_log_message_of_the_gateway_has_its_own_event_id()
    {
        const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var messages = typeof(SessionMiddleware).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(Everything))
            .Select(method => (Method: method, Message: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(found => found.Message is not null)
            .ToList();

        Assert.True(messages.Count > 20, $"found only {messages.Count} log messages: the scan is not reading the gateway");
        var shared = messages
            .GroupBy(found => found.Message!.EventId)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(found => $"{found.Method.DeclaringType?.FullName}.{found.Method.Name}"))}")
            .ToList();
        Assert.Empty(shared);
    }
}
