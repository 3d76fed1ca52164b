using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// What every fault case checks after the fault: the agent got a problem (or a broken
/// response), and the store still holds the whole story — the session, the decision's audit
/// event, and a chain that verifies.
/// </summary>
internal static class StoredRecords
{
    public static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, string type)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:" + type, (string?)problem["type"]);
        Assert.Equal((int)response.StatusCode, (int)problem["status"]!);
        return problem;
    }

    public static Guid SessionId(HttpResponseMessage response) =>
        Guid.Parse(Assert.Single(response.Headers.GetValues("Airlock-Session")));

    public static Task<SessionRecord> SessionAsync(IAirlockStore store, Guid id) =>
        Eventually.GetAsync(() => store.GetSessionAsync(id, CancellationToken.None), what: $"session {id} to be stored");

    /// <summary>The audit events that name the session.</summary>
    public static async Task<List<AuditEvent>> EventsOfAsync(IAirlockStore store, Guid sessionId) =>
        [.. (await store.QueryAuditEventsAsync(new AuditQuery(Limit: 10_000), CancellationToken.None)).Where(e => e.SessionId == sessionId)];

    /// <summary>A request refused because its decision could not be recorded: its session says
    /// so, and the trail holds no decision for it (nothing was acted on).</summary>
    public static async Task AssertRefusedUnrecordedAsync(IAirlockStore store, Guid sessionId)
    {
        var session = await SessionAsync(store, sessionId);
        Assert.Equal(503, session.Status);
        Assert.Equal("audit-unavailable", session.Error);
        Assert.Empty(await EventsOfAsync(store, sessionId));
    }

    /// <summary>Walks the whole chain as <c>airlock audit verify</c> does.</summary>
    public static async Task AssertChainVerifiesAsync(IAirlockStore store)
    {
        var verification = await AuditStoreVerification.VerifyAsync(store, null, CancellationToken.None);
        Assert.True(verification.Valid, verification.Break?.Problem);
        Assert.True(verification.Count > 0);
    }
}
