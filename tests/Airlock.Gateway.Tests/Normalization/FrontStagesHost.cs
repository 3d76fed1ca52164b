using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Normalization;
using Airlock.Gateway.Routing;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Http.Features;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Normalization;

/// <summary>
/// The gateway's front stages as the proxy listener runs them, on a real Kestrel at
/// 127.0.0.1:0: a session is opened, <see cref="NormalizationMiddleware"/> runs on the raw
/// target, the request is routed to one connection, <see cref="HeaderNameMiddleware"/> runs, and
/// the next stage (policy, in the gateway) answers 200 with what it was handed: the session's
/// path and query, and the request's headers. Refusals go to a real audit trail in SQLite.
/// Requests are written byte for byte over a socket: HttpClient would clean up the very targets
/// and header names under test.
/// </summary>
internal sealed class FrontStagesHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SqliteStore _store;
    private readonly AuditWriter _writer;
    private readonly RefusalTally _tally;
    private readonly ConnectionRoute _route;
    private readonly string _directory;
    private readonly Uri _address;

    private FrontStagesHost(WebApplication app, SqliteStore store, AuditWriter writer, RefusalTally tally, ConnectionRoute route, string directory)
    {
        _app = app;
        _store = store;
        _writer = writer;
        _tally = tally;
        _route = route;
        _directory = directory;
        _address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
    }

    /// <summary>The session of the last request, as the session record would be written from it.</summary>
    public SessionFeature? LastSession { get; private set; }

    /// <summary>How many requests reached the stage after the front stages.</summary>
    public int Passed { get; private set; }

    public static async Task<FrontStagesHost> StartAsync(OddHeaderNames headersWithUnderscores = OddHeaderNames.Drop)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var directory = Directory.CreateTempSubdirectory("airlock-front-").FullName;
        var store = new SqliteStore(Path.Combine(directory, "airlock.db"), time);
        await store.MigrateAsync(CancellationToken.None);
        var writer = new AuditWriter(store, time, NullLogger<AuditWriter>.Instance);
        writer.Start();
        var tally = new RefusalTally(writer, time, NullLogger<RefusalTally>.Instance);
        var route = new ConnectionRoute(new ConnectionConfig
        {
            Name = "billing",
            Upstream = new Uri("http://10.0.0.5:8080/api"),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ResponseTimeout = TimeSpan.FromSeconds(30),
            Credential = UpstreamCredential.None,
            HeadersWithUnderscores = headersWithUnderscores,
        });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(tally);
        builder.Services.AddSingleton(new AuditTrail(writer, time, NullLogger<AuditTrail>.Instance));
        var app = builder.Build();
        FrontStagesHost? host = null;
        app.Use((context, next) =>
        {
            var session = new SessionFeature(context.Features, Guid.CreateVersion7(time.GetUtcNow()), time.GetUtcNow(), time.GetTimestamp(),
                context.Request.Method, context.Request.Path.Value ?? "");
            context.Features.Set(session);
            host!.LastSession = session;
            return next(context);
        });
        app.UseMiddleware<NormalizationMiddleware>();
        app.Use((context, next) =>
        {
            context.Features.Set(new RouteFeature(route, ""));
            return next(context);
        });
        app.UseMiddleware<HeaderNameMiddleware>();
        app.Run(async context =>
        {
            host!.Passed++;
            var session = context.Features.GetRequiredFeature<SessionFeature>();
            var body = JsonSerializer.SerializeToUtf8Bytes(new Handed(
                session.Path, session.Query, [.. context.Request.Headers.Select(h => h.Key).Order(StringComparer.OrdinalIgnoreCase)]));
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        host = new FrontStagesHost(app, store, writer, tally, route, directory);
        return host;
    }

    /// <summary>Sends one request as written: the request line, the header lines, and a
    /// <c>Host</c> and <c>Connection: close</c> unless the lines name their own.</summary>
    public Task<Answer> SendAsync(string method, string target, params string[] headerLines) =>
        SendAsync(method, target, close: true, headerLines);

    /// <summary>As <see cref="SendAsync(string, string, string[])"/>, without the <c>Connection</c>
    /// header: an HTTP/1.1 request that keeps its connection open, as most clients send.</summary>
    public Task<Answer> SendWithoutConnectionHeaderAsync(string method, string target, params string[] headerLines) =>
        SendAsync(method, target, close: false, headerLines);

    private async Task<Answer> SendAsync(string method, string target, bool close, string[] headerLines)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(_address.Host, _address.Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder().Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        if (!headerLines.Any(line => line.StartsWith("Host:", StringComparison.OrdinalIgnoreCase)))
        {
            request.Append("Host: ").Append(_address.Authority).Append("\r\n");
        }

        foreach (var line in headerLines)
        {
            request.Append(line).Append("\r\n");
        }

        if (close && !headerLines.Any(line => line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase)))
        {
            request.Append("Connection: close\r\n");
        }

        await stream.WriteAsync(Encoding.Latin1.GetBytes(request.Append("\r\n").ToString()));

        // Read by Content-Length: a request that keeps its connection open (an upgrade) is
        // answered without the server closing it.
        var received = new List<byte>();
        var chunk = new byte[4096];
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(received)) < 0)
        {
            var read = await stream.ReadAsync(chunk);
            Assert.True(read > 0, "the connection closed before a whole response head");
            received.AddRange(chunk.AsSpan(0, read));
        }

        var lines = Encoding.Latin1.GetString([.. received], 0, headerEnd).Split("\r\n");
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var length = int.Parse(headers["Content-Length"], System.Globalization.CultureInfo.InvariantCulture);
        while (received.Count < headerEnd + 4 + length)
        {
            var read = await stream.ReadAsync(chunk);
            Assert.True(read > 0, "the connection closed before the whole body");
            received.AddRange(chunk.AsSpan(0, read));
        }

        var body = Encoding.UTF8.GetString([.. received], headerEnd + 4, length);
        return new Answer(int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, body);
    }

    private static int IndexOfHeaderEnd(List<byte> received)
    {
        for (var i = 0; i + 3 < received.Count; i++)
        {
            if (received[i] == '\r' && received[i + 1] == '\n' && received[i + 2] == '\r' && received[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The counted refusals (written once a minute in the gateway; flushed here).</summary>
    public async Task<List<AuditEvent>> RefusalCountsAsync()
    {
        await _tally.FlushAsync();
        return [.. (await _store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None)).Where(e => e.Kind == AuditKinds.RequestsRefused)];
    }

    /// <summary>The refusals recorded one by one (a known connection's).</summary>
    public async Task<List<AuditEvent>> RecordedRefusalsAsync() =>
        [.. (await _store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None)).Where(e => e.Kind == AuditKinds.RequestRefused)];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _tally.Dispose();
        await _writer.DrainAsync(CancellationToken.None);
        _writer.Dispose();
        await _store.DisposeAsync();
        _route.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>What the stage after the front stages was handed.</summary>
    public sealed record Handed(string Path, string? Query, string[] Headers);

    public sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public Handed Handed => JsonSerializer.Deserialize<Handed>(Body)!;

        public JsonElement Problem => JsonDocument.Parse(Body).RootElement;
    }
}
