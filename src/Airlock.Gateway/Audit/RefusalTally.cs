using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Audit;

/// <summary>
/// Puts the refusals whose number a caller controls on the audit trail without letting a flood
/// fill the disk: those before anyone is known (401, a bad request target or method, a full
/// recording queue) and rate-limited ones. Each is counted in memory; once a minute the counts
/// become one <c>requests.refused</c> event per (problem, reason, caller, connection), with the
/// exact count, the first and last time and session, and the client addresses:
/// <code>
/// refusal ─ Count ─▶ table of the minute ── every minute ──▶ one event per entry ─ AuditWriter
///                     (bounded: MaxNamedCallers          └ not written? merged into the next
///                      entries with a caller, plus         minute's table, so nothing is lost
///                      one per problem and reason)         while the process runs
/// </code>
/// The refusal is answered at once; nothing it does waits for the trail (it acts on nothing).
/// At shutdown, after the listeners have stopped, the last counts are written. docs/audit.md
/// states the bound.
/// </summary>
internal sealed partial class RefusalTally(AuditWriter writer, TimeProvider timeProvider, ILogger<RefusalTally> logger)
    : BackgroundService, IHostedLifecycleService
{
    /// <summary>How long refusals are counted before their counts are written.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Entries that name a caller (a rate-limited one, a revoked key) in one window;
    /// past this, such refusals are counted under their problem and reason without the caller.</summary>
    public const int MaxNamedCallers = 256;

    /// <summary>Client addresses counted one by one in an entry; the rest are counted together.</summary>
    public const int MaxClients = 8;

    private readonly Lock _lock = new();
    private Dictionary<RefusalKey, RefusalCount> _counts = [];
    private int _named;
    private bool _closed;

    /// <summary>Counts one refusal. <paramref name="caller"/> is who was refused, when known
    /// (rate limits); <paramref name="subject"/> names a credential that was refused (a revoked key).</summary>
    public void Count(HttpContext context, SessionFeature session, ProblemType problem, string reason, CallerIdentity? caller = null, string? subject = null)
    {
        var key = new RefusalKey(problem.Name, reason, caller?.Subject ?? subject, session.Connection?.Name);
        var client = context.Connection.RemoteIpAddress?.ToString();
        var at = timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (_closed)
            {
                // The listeners have stopped before this point; this is a defect, not a flood.
                Log.AfterShutdown(logger, session.Id, problem.Name, reason);
                return;
            }

            var count = Entry(key, problem.Status, caller is null ? null : AuditTrail.ActorOf(caller));
            count.Add(at, session.Id, client);
        }
    }

    /// <summary>The entry for the key, folding named callers past the bound into an unnamed entry.
    /// Called under the lock.</summary>
    private RefusalCount Entry(RefusalKey key, int status, AuditActor? actor)
    {
        if (_counts.TryGetValue(key, out var count))
        {
            return count;
        }

        if (key.Subject is not null)
        {
            if (_named >= MaxNamedCallers)
            {
                return Entry(key with { Subject = null }, status, null);
            }

            _named++;
        }

        count = new RefusalCount(status, actor);
        _counts[key] = count;
        return count;
    }

    /// <summary>Writes the counts of the window that ends now, and waits until they are durable.
    /// Counts the trail cannot take stay for the next window.</summary>
    public async Task FlushAsync()
    {
        Dictionary<RefusalKey, RefusalCount> ended;
        lock (_lock)
        {
            if (_counts.Count == 0)
            {
                return;
            }

            ended = _counts;
            _counts = [];
            _named = 0;
        }

        var now = timeProvider.GetUtcNow();
        var writes = new List<(RefusalKey Key, RefusalCount Count, Task Written)>(ended.Count);
        foreach (var (key, count) in ended)
        {
            writes.Add((key, count, writer.AppendAsync(EventFor(key, count, now), CancellationToken.None)));
        }

        long kept = 0;
        string? why = null;
        foreach (var (key, count, written) in writes)
        {
            try
            {
                await written;
            }
            catch (AuditUnavailableException ex)
            {
                why ??= ex.Message;
                kept += count.Count;
                lock (_lock)
                {
                    Entry(key, count.Status, count.Actor).Absorb(count);
                }
            }
        }

        if (why is not null)
        {
            Log.Kept(logger, kept, why);
        }
    }

    private static AuditEvent EventFor(RefusalKey key, RefusalCount count, DateTimeOffset now)
    {
        var detail = new Dictionary<string, string>
        {
            ["problem"] = key.Problem,
            ["reason"] = key.Reason,
            ["status"] = count.Status.ToString(CultureInfo.InvariantCulture),
            ["count"] = count.Count.ToString(CultureInfo.InvariantCulture),
            ["firstAt"] = AuditChain.FormatTime(count.FirstAt),
            ["lastAt"] = AuditChain.FormatTime(count.LastAt),
            ["firstSessionId"] = count.FirstSession.ToString(),
            ["lastSessionId"] = count.LastSession.ToString(),
        };
        if (count.Actor is null && key.Subject is not null)
        {
            detail["subject"] = key.Subject;
        }

        if (count.Clients.Count > 0)
        {
            var clients = new StringBuilder();
            foreach (var (address, n) in count.Clients)
            {
                clients.Append(clients.Length == 0 ? "" : ",").Append(address).Append('=').Append(n.ToString(CultureInfo.InvariantCulture));
            }

            detail["clients"] = clients.ToString();
        }

        if (count.OtherClients > 0)
        {
            detail["otherClients"] = count.OtherClients.ToString(CultureInfo.InvariantCulture);
        }

        return new AuditEvent
        {
            At = now,
            Kind = AuditKinds.RequestsRefused,
            Actor = count.Actor,
            Target = key.Connection is null ? null : new AuditTarget(key.Connection, null, null),
            Outcome = "refused",
            Detail = detail.ToImmutableSortedDictionary(StringComparer.Ordinal),
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Window, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stopping: writes what was counted, before the checkpoint service signs the head.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync();
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every service has stopped (the audit writer drains after this): writes whatever
    /// was still counted, and says so in the log if the trail cannot take it.</summary>
    async Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken)
    {
        await FlushAsync();
        long lost;
        lock (_lock)
        {
            _closed = true;
            lost = _counts.Values.Sum(c => c.Count);
        }

        if (lost > 0)
        {
            Log.Lost(logger, lost);
        }
    }

    private readonly record struct RefusalKey(string Problem, string Reason, string? Subject, string? Connection);

    /// <summary>What one entry has counted in its window.</summary>
    private sealed class RefusalCount(int status, AuditActor? actor)
    {
        public int Status { get; } = status;

        public AuditActor? Actor { get; } = actor;

        public long Count { get; private set; }

        public DateTimeOffset FirstAt { get; private set; }

        public DateTimeOffset LastAt { get; private set; }

        public Guid FirstSession { get; private set; }

        public Guid LastSession { get; private set; }

        /// <summary>The first <see cref="MaxClients"/> addresses seen, in that order, with their counts.</summary>
        public List<KeyValuePair<string, long>> Clients { get; } = [];

        public long OtherClients { get; private set; }

        public void Add(DateTimeOffset at, Guid session, string? client)
        {
            if (Count++ == 0)
            {
                (FirstAt, FirstSession) = (at, session);
            }

            (LastAt, LastSession) = (at, session);
            if (client is not null)
            {
                AddClient(client, 1);
            }
        }

        /// <summary>Takes in the counts of an earlier window that could not be written.</summary>
        public void Absorb(RefusalCount earlier)
        {
            if (Count == 0 || earlier.FirstAt < FirstAt)
            {
                (FirstAt, FirstSession) = (earlier.FirstAt, earlier.FirstSession);
            }

            if (Count == 0 || earlier.LastAt > LastAt)
            {
                (LastAt, LastSession) = (earlier.LastAt, earlier.LastSession);
            }

            Count += earlier.Count;
            foreach (var (client, n) in earlier.Clients)
            {
                AddClient(client, n);
            }

            OtherClients += earlier.OtherClients;
        }

        private void AddClient(string client, long n)
        {
            for (var i = 0; i < Clients.Count; i++)
            {
                if (Clients[i].Key == client)
                {
                    Clients[i] = new(client, Clients[i].Value + n);
                    return;
                }
            }

            if (Clients.Count < MaxClients)
            {
                Clients.Add(new(client, n));
            }
            else
            {
                OtherClients += n;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(6012, LogLevel.Warning, "{Count} refusals could not be written to the audit trail ({Reason}); their counts are kept for the next minute")]
        public static partial void Kept(ILogger logger, long count, string reason);

        [LoggerMessage(6013, LogLevel.Critical, "The gateway stopped with {Count} refusals counted but not written to the audit trail")]
        public static partial void Lost(ILogger logger, long count);

        [LoggerMessage(6014, LogLevel.Error, "Session {SessionId}: refused ({Problem}, {Reason}) after the refusal tally closed; not written to the audit trail")]
        public static partial void AfterShutdown(ILogger logger, Guid sessionId, string problem, string reason);
    }
}
