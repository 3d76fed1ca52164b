using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// The audit table refuses writes while the audit writer holds a backlog of events to retry
/// (events of things already done: approvals, expiries, withheld responses). Nothing on a
/// request's path may wait for that backlog: a decision gets its 503 at once (fail closed, not
/// hang), a refusal is answered, a withheld response is answered, and once the table takes
/// writes again the backlog and the interruption are on the trail, in a chain that verifies.
/// </summary>
public sealed class AuditBacklogTests : IAsyncLifetime
{
    /// <summary>Past the 1,024 events the writer writes in one batch, and queued ahead of any request.</summary>
    private const int Backlog = 2_000;

    /// <summary>How long an answer may take; far more than the gateway needs, far less than "never".</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly CapturedLogs _logs = new();
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - { name: allow-all, action: allow }
                guardrails:
                  - name: no-server-errors
                    response: { status: [500] }
                """,
        }.Connection("crm", _upstream.BaseUri), logs: _logs);
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task BreakAuditTableAsync() =>
        ReadinessTests.AuditTableAsync(_gateway, "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit table down'); END");

    private Task MendAuditTableAsync() => ReadinessTests.AuditTableAsync(_gateway, "DROP TRIGGER audit_down");

    private static AuditEvent BacklogEvent(AuditTrail trail, int i) =>
        trail.Event(AuditKinds.PolicyRejected, "rejected", null, new Dictionary<string, string> { ["backlog"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>Every event on the trail, page by page.</summary>
    private async Task<List<AuditEvent>> AllEventsAsync()
    {
        var all = new List<AuditEvent>();
        while (true)
        {
            var page = await _gateway.Store.QueryAuditEventsAsync(new Gateway.Storage.AuditQuery(AfterSeq: all.Count == 0 ? 0 : all[^1].Seq, Limit: 10_000), CancellationToken.None);
            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page);
        }
    }

    [Fact]
    public async Task Decisions_and_refusals_are_answered_at_once_while_the_writer_retries_a_backlog()
    {
        var trail = _gateway.Services.GetRequiredService<AuditTrail>();
        await BreakAuditTableAsync();
        for (var i = 0; i < Backlog; i++)
        {
            trail.Record(BacklogEvent(trail, i));
        }

        // A decision: refused for the trail, promptly, and nothing forwarded.
        using (var decided = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", _key)).WaitAsync(Deadline))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, decided.StatusCode);
            await ProblemAsync(decided, "audit-unavailable");
            await AssertRefusedUnrecordedAsync(_gateway.Store, SessionId(decided));
        }

        // A known caller's refusal before policy: answered all the same, its loss logged.
        Guid refusedId;
        using (var refused = await _gateway.Proxy.SendAsync(TestGateway.Get("/nowhere/v1/x", _key)).WaitAsync(Deadline))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            refusedId = SessionId(refused);
        }

        Assert.Contains(_logs.Lines, l => l.Contains("[6010]", StringComparison.Ordinal) && l.Contains(refusedId.ToString(), StringComparison.Ordinal));
        Assert.Empty(_upstream.Received);

        // The table takes writes again: the backlog is written, after the interruption's own event.
        await MendAuditTableAsync();
        using var after = await Eventually.GetAsync(async () =>
        {
            var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", _key));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return response;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            response.Dispose();
            return null;
        }, what: "the gateway to serve again");
        var events = await AllEventsAsync();
        var backlog = events.Where(e => e.Detail.ContainsKey("backlog")).ToList();
        Assert.Equal(Enumerable.Range(0, Backlog).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), backlog.Select(e => e.Detail["backlog"]));
        var interrupted = Assert.Single(events, e => e.Kind == AuditKinds.AuditInterrupted);
        Assert.True(interrupted.Seq < backlog[0].Seq);
        Assert.True(long.Parse(interrupted.Detail["refusedEvents"], System.Globalization.CultureInfo.InvariantCulture) >= 2);
        await AssertChainVerifiesAsync(_gateway.Store);
    }

    [Fact]
    public async Task A_withheld_response_is_answered_while_the_audit_queue_is_full()
    {
        var trail = _gateway.Services.GetRequiredService<AuditTrail>();
        var recorded = 0;
        Task? filling = null;
        _upstream.Routes["/fails"] = async context =>
        {
            // The request's decision is on the trail; now the trail breaks, and the writer's
            // backlog fills its queue (Record waits for room once it is full).
            await BreakAuditTableAsync();
            filling = Task.Run(() =>
            {
                for (var i = 0; i < 40_000; i++)
                {
                    trail.Record(BacklogEvent(trail, i));
                    Interlocked.Increment(ref recorded);
                }
            });
            await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref recorded) >= AuditWriter.Capacity + 1_024 ? "full" : null),
                what: "the audit backlog to fill the queue");
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync("internal error");
        };

        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/fails", _key)).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var session = SessionId(response);
        await ProblemAsync(response, "response-blocked");

        // Once the table takes writes, the withheld response is on the trail after its decision,
        // unless its event found no room in the queue in time: then the loss is in the log.
        await MendAuditTableAsync();
        await filling!.WaitAsync(Deadline);
        await Eventually.GetAsync(async () => (await _gateway.Store.GetAuditHeadAsync(CancellationToken.None)).Count > 40_000 ? "written" : null,
            timeout: Deadline, what: "the backlog to be written");
        var events = (await AllEventsAsync()).Where(e => e.SessionId == session).Select(e => e.Kind).ToList();
        var lost = _logs.Lines.Any(l => l.Contains("[6015]", StringComparison.Ordinal) && l.Contains(session.ToString(), StringComparison.Ordinal));
        Assert.Equal(lost ? [AuditKinds.RequestAllowed] : [AuditKinds.RequestAllowed, AuditKinds.ResponseBlocked], events);
        await AssertChainVerifiesAsync(_gateway.Store);
    }
}
