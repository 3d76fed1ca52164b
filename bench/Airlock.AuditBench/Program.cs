// The audit trail, measured end to end on this machine, on a real SQLite file:
//   1. append throughput: events/s through one AuditWriter (group commit, synchronous=FULL)
//      with many concurrent appenders, each waiting until its event is durable, as requests do;
//   2. verification throughput: events/s of AuditStoreVerification over the whole chain
//      (read from SQLite, parse, re-canonicalise, hash, link), and of the verifier alone.
// Run: dotnet run -c Release --project bench/Airlock.AuditBench [-- events appenders]
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
var appenders = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;

var directory = Directory.CreateTempSubdirectory("airlock-audit-bench-").FullName;
await using var store = new SqliteStore(Path.Combine(directory, "airlock.db"), TimeProvider.System);
await store.MigrateAsync(CancellationToken.None);
Console.WriteLine($"# Audit trail on {Environment.ProcessorCount} cores, .NET {Environment.Version}, SQLite file in {directory}");

// Warm up the writer, the store and the JIT on a few thousand events first.
await AppendAsync(5_000, appenders);
var appended = Stopwatch.StartNew();
await AppendAsync(events, appenders);
appended.Stop();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"append: {events:N0} events from {appenders} concurrent appenders in {appended.Elapsed.TotalSeconds:0.00} s = {events / appended.Elapsed.TotalSeconds:N0} events/s"));

for (var run = 1; run <= 3; run++)
{
    var verification = await AuditStoreVerification.VerifyAsync(store, null, CancellationToken.None);
    if (!verification.Valid)
    {
        throw new InvalidOperationException(verification.Break!.Problem);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"verify (run {run}, from SQLite): {verification.Count:N0} events in {verification.Elapsed.TotalSeconds:0.00} s = {verification.EventsPerSecond:N0} events/s"));
}

var chain = new List<StoredAuditEvent>(events + 5_000);
await foreach (var stored in store.ReadAuditChainAsync(1, CancellationToken.None))
{
    chain.Add(stored);
}

for (var run = 1; run <= 3; run++)
{
    var verifier = new AuditVerifier([], null);
    foreach (var stored in chain)
    {
        verifier.Add(stored);
    }

    var inMemory = verifier.Complete();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"verify (run {run}, in memory): {inMemory.Count:N0} events in {inMemory.Elapsed.TotalSeconds:0.00} s = {inMemory.EventsPerSecond:N0} events/s"));
}

Console.WriteLine($"database size: {new FileInfo(Path.Combine(directory, "airlock.db")).Length / 1048576.0:0.0} MiB (+ WAL)");
Directory.Delete(directory, recursive: true);

async Task AppendAsync(int count, int tasks)
{
    using var writer = new AuditWriter(store, TimeProvider.System, NullLogger<AuditWriter>.Instance);
    writer.Start();
    var next = 0;
    await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) <= count)
        {
            await writer.AppendAsync(Event(i), CancellationToken.None);
        }
    })));
    await writer.DrainAsync(CancellationToken.None);
}

static AuditEvent Event(int i) => new()
{
    At = TimeProvider.System.GetUtcNow(),
    Kind = AuditKinds.RequestAllowed,
    Actor = new AuditActor("key:billing-agent", ["agents", "billing"], "apikey"),
    Target = new AuditTarget("billing", "GET", "/billing/v1/customers/" + i.ToString(CultureInfo.InvariantCulture)),
    Rule = "read-billing",
    PolicyVersion = "sha256:9b74c9897bac770ffc029102a200c5de",
    SessionId = Guid.CreateVersion7(),
    Outcome = "allowed",
    Detail = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal),
};
