using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Sessions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.FunctionalTests.Hardening;

/// <summary>With <c>recording.whenFull: refuse</c>, a full recording queue refuses new requests
/// instead of making them wait, and no record of a forwarded request is lost.</summary>
public sealed class RecordingQueueTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { TopLevel = "recording: { queue: 1, whenFull: refuse }" }
            .Connection("billing", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task RenameAsync(string from, string to)
    {
        await using var db = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")};Pooling=false");
        await db.OpenAsync();
        var command = db.CreateCommand();
        command.CommandText = $"ALTER TABLE {from} RENAME TO {to}";
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_full_queue_refuses_new_requests_until_the_store_catches_up()
    {
        var writer = _gateway.Services.GetRequiredService<SessionWriter>();
        await RenameAsync("sessions", "sessions_away");

        // The first record is taken by the writer and retried; the second waits in the queue.
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/a", _key))).EnsureSuccessStatusCode();
        await Eventually.GetAsync(() => Task.FromResult(writer.Writing == 1 && writer.QueueLength == 0 ? "taken" : null));
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/b", _key))).EnsureSuccessStatusCode();
        await Eventually.GetAsync(() => Task.FromResult(writer.IsFull ? "full" : null));

        using var refused = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/c", _key));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("urn:airlock:problem:recording-unavailable", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["type"]);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        Assert.DoesNotContain(_upstream.Received, r => r.RawTarget == "/c");

        await RenameAsync("sessions_away", "sessions");
        await Eventually.GetAsync(() => Task.FromResult(writer.IsFull ? null : "room"), TimeSpan.FromSeconds(30));
        using var served = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/d", _key));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var stored = await Eventually.GetAsync(async () =>
            await _gateway.Store.ListSessionsAsync(new SessionQuery(), CancellationToken.None) is var all && all.Any(s => s.Path == "/billing/d") ? all : null);
        Assert.Contains(stored, s => s.Path == "/billing/a");
        Assert.Contains(stored, s => s.Path == "/billing/b");
    }
}
