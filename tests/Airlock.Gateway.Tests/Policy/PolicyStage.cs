using System.Collections.Immutable;
using System.Text.Json;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Routing;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// The parts the policy stage and the response guardrails run with, real: the gateway's
/// configuration loaded from YAML, a SQLite store in a temporary file, the audit writer and trail
/// over it, and the connections' routes. Only the clock is the test's. Requests are
/// <see cref="DefaultHttpContext"/>s carrying the session the earlier stages would have set up.
/// </summary>
internal sealed class PolicyStage : IAsyncLifetime
{
    public const string Config = """
        listeners:
          proxy: 127.0.0.1:8080
          admin: 127.0.0.1:8081
        store:
          sqlite: ./data/airlock.db
        identity:
          apiKeys: true
        connections:
          billing:
            upstream: http://127.0.0.1:9000/api
            credential: { type: none }
          crm:
            upstream: http://127.0.0.1:9001
            credential: { type: none }
            masking:
              fields:
                - { path: "$..ssn", action: redact }
              refuseQueriesOnMaskedFields: true
        policy:
          file: ./policy.yaml
          maxBodyBytes: 2KiB
          maxResponseBodyBytes: 4KiB
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("airlock-policy-stage-").FullName;
    private readonly Dictionary<string, ConnectionRoute> _routes = new(StringComparer.Ordinal);

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public AirlockConfig Configuration { get; private set; } = null!;

    public SqliteStore Store { get; private set; } = null!;

    public AuditWriter Writer { get; private set; } = null!;

    public AuditTrail Trail { get; private set; } = null!;

    public static readonly CallerIdentity Agent = new("key:agent", "apikey", "airlock", "agent", "k1", ["agents"]);

    public async ValueTask InitializeAsync()
    {
        var loaded = ConfigLoader.Load(Config, Path.Combine(_directory, "airlock.yaml"));
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        Configuration = loaded.Config!;
        foreach (var connection in Configuration.Connections)
        {
            _routes[connection.Name] = new ConnectionRoute(connection);
        }

        Store = new SqliteStore(Path.Combine(_directory, "airlock.db"), Time);
        await Store.MigrateAsync(CancellationToken.None);
        Writer = new AuditWriter(Store, Time, NullLogger<AuditWriter>.Instance);
        Writer.Start();
        Trail = new AuditTrail(Writer, Time, NullLogger<AuditTrail>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.DrainAsync(CancellationToken.None);
        Writer.Dispose();
        await Store.DisposeAsync();
        foreach (var route in _routes.Values)
        {
            route.Dispose();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The audit trail cannot take events from now on: the writer has shut down.</summary>
    public Task StopAuditAsync() => Writer.DrainAsync(CancellationToken.None);

    public PolicyProvider Policies(string policyYaml) =>
        new(Configuration, PolicyFixture.Compile(policyYaml), Store, Trail, Time, NullLogger<PolicyProvider>.Instance);

    public async Task<List<AuditEvent>> EventsAsync(Guid session) =>
        [.. (await Store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None)).Where(e => e.SessionId == session)];

    /// <summary>A request as the stages before policy leave it: normalised, authenticated, routed.</summary>
    public (HttpContext Context, SessionFeature Session) Request(string method, string path, string? query = null, byte[]? body = null,
        string? contentType = null, string? contentEncoding = null, bool declareLength = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString("?" + query);
        }

        if (contentType is not null)
        {
            context.Request.ContentType = contentType;
        }

        if (contentEncoding is not null)
        {
            context.Request.Headers.ContentEncoding = contentEncoding;
        }

        if (body is not null)
        {
            context.Request.Body = new MemoryStream(body, writable: false);
            if (declareLength)
            {
                context.Request.ContentLength = body.Length;
            }
        }

        context.Response.Body = new MemoryStream();
        var name = path.Split('/')[1];
        var session = new SessionFeature(context.Features, Guid.CreateVersion7(Time.GetUtcNow()), Time.GetUtcNow(), Time.GetTimestamp(), method, path)
        {
            Query = query,
        };
        context.Features.Set(session);
        context.Features.Set(new CallerFeature(Agent));
        context.Features.Set(new RouteFeature(_routes[name], path[(name.Length + 1)..]));
        return (context, session);
    }

    /// <summary>The problem+json the gateway answered with.</summary>
    public static JsonElement Problem(HttpContext context)
    {
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        context.Response.Body.Position = 0;
        using var json = JsonDocument.Parse(context.Response.Body);
        return json.RootElement.Clone();
    }

    /// <summary>The members of a problem, as name → text, for comparing whole.</summary>
    public static ImmutableSortedDictionary<string, string> Members(JsonElement problem) =>
        problem.EnumerateObject().ToImmutableSortedDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetRawText() : p.Value.GetString()!, StringComparer.Ordinal);

    /// <summary>The lines a component logs, as an operator's log shows them: level, event id, message.</summary>
    public sealed class CapturedLog<T> : ILogger<T>
    {
        private readonly List<(LogLevel Level, int Id, string Message)> _lines = [];

        public IReadOnlyList<(LogLevel Level, int Id, string Message)> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add((logLevel, eventId.Id, formatter(state, exception)));
            }
        }
    }
}
