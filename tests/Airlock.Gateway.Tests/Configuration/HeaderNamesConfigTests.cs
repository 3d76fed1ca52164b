using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

/// <summary>A connection's <c>headersWithUnderscores</c>: drop (the default) or refuse.</summary>
public class HeaderNamesConfigTests
{
    private static ConfigLoadResult Load(string connectionExtra) =>
        ConfigLoader.Load($"""
            listeners: {"{"} proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 {"}"}
            store: {"{"} sqlite: ./airlock.db {"}"}
            identity: {"{"} apiKeys: true {"}"}
            connections:
              crm:
                upstream: http://127.0.0.1:9000
                credential: {"{"} type: none {"}"}
            {connectionExtra}
            policy: {"{"} file: ./policy.yaml {"}"}
            """, "/etc/airlock/airlock.yaml", _ => null);

    // Internal: it takes the gateway's internal OddHeaderNames, and xunit runs internal test methods too.
    [Theory]
    [InlineData("", OddHeaderNames.Drop)]
    [InlineData("    headersWithUnderscores: drop", OddHeaderNames.Drop)]
    [InlineData("    headersWithUnderscores: refuse", OddHeaderNames.Refuse)]
    internal void Headers_with_underscores_are_dropped_unless_the_connection_refuses_them(string connectionExtra, OddHeaderNames expected)
    {
        var result = Load(connectionExtra);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(expected, result.Config!.Connections.Single().HeadersWithUnderscores);
    }

    [Fact]
    public void Another_choice_for_headers_with_underscores_is_an_error_with_its_place()
    {
        var result = Load("    headersWithUnderscores: allow");

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Path == "connections.crm.headersWithUnderscores" && e.Line > 0);
    }
}
