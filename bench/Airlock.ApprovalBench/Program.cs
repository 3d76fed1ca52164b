// Approvals, measured end to end on this machine:
//   1. approval-to-forward latency: from the approve call returning to the upstream receiving
//      the held request (median, p99), on SQLite;
//   2. memory per held request: the gateway process's RSS with 1,000 requests held at once.
// Run: dotnet run -c Release --project bench/Airlock.ApprovalBench [-- iterations held]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Airlock.Benchmarks.Approvals;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Hosting;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var heldCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;

await using var upstream = await Upstream.StartAsync();
var directory = Directory.CreateTempSubdirectory("airlock-approval-bench-").FullName;
var configPath = Path.Combine(directory, "airlock.yaml");
File.WriteAllText(Path.Combine(directory, "policy.yaml"), """
    rules:
      - name: refunds
        when: { methods: [POST] }
        action: review
        review: { approvers: [finance-approvers], hold: 5m, expires: 1h }
    """);
File.WriteAllText(configPath, $$"""
    listeners: { proxy: 127.0.0.1:0, admin: 127.0.0.1:0 }
    store: { sqlite: ./airlock.db }
    identity: { apiKeys: true }
    connections:
      billing: { upstream: "{{upstream.BaseUri}}", credential: { type: none } }
    policy: { file: ./policy.yaml }
    """);

Console.WriteLine($"# Approvals on {Environment.ProcessorCount} cores, .NET {Environment.Version}");
await MeasureLatencyAsync();
await MeasureHeldMemoryAsync();

async Task MeasureLatencyAsync()
{
    var config = ConfigLoader.LoadFile(configPath).Config!;
    await using var app = AirlockGateway.Build(config, PolicyProvider.LoadInitial(config),
        new AirlockGatewayOptions { ConfigureLogging = l => l.SetMinimumLevel(LogLevel.Warning) });
    var (proxy, _) = await AirlockGateway.StartAsync(app, CancellationToken.None);
    var (created, _) = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync("bench-agent", ["agents"], CancellationToken.None);
    var store = app.Services.GetRequiredService<IAirlockStore>();
    var reviews = app.Services.GetRequiredService<ReviewService>();
    var approver = new CallerIdentity("corp:alice", "oidc", "corp", null, null, ["finance-approvers"]);
    using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy}") };
    client.DefaultRequestHeaders.Authorization = new("Bearer", created!.Text);

    var latencies = new List<double>(iterations);
    for (var i = 0; i < iterations + 20; i++)
    {
        var arrived = upstream.Expect();
        var held = client.PostAsync("/billing/v1/refunds", new StringContent($"{{\"amount\":{i}}}", Encoding.UTF8, "application/json"));
        Review? review = null;
        while (review is null)
        {
            var pendingNow = await store.ListReviewsAsync(ReviewStatus.Pending, 1, CancellationToken.None);
            review = pendingNow.Count > 0 ? pendingNow[0] : null;
        }

        await reviews.DecideAsync(review.Id, approver, ReviewDecision.Approve, null, null, CancellationToken.None);
        var returned = Stopwatch.GetTimestamp();
        var received = await arrived;
        (await held).EnsureSuccessStatusCode();
        if (i >= 20)
        {
            latencies.Add(Stopwatch.GetElapsedTime(returned, received).TotalMilliseconds);
        }
    }

    latencies.Sort();
    Console.WriteLine($"approval-to-forward latency over {iterations} approvals (SQLite): " +
        string.Create(CultureInfo.InvariantCulture, $"median {Percentile(latencies, 0.50):0.00} ms, p99 {Percentile(latencies, 0.99):0.00} ms, max {latencies[^1]:0.00} ms"));
}

async Task MeasureHeldMemoryAsync()
{
    var keyOutput = new StringWriter();
    await Airlock.Cli.AirlockCli.RunAsync(["keys", "create", "--config", configPath, "--name", "memory-agent"], keyOutput, TextWriter.Null);
    var key = keyOutput.ToString().Trim();
    var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "airlock.dll"), "serve", "--config", configPath })
    {
        info.ArgumentList.Add(a);
    }

    using var gateway = Process.Start(info)!;
    string? line;
    Uri? proxy = null;
    while (proxy is null && (line = await gateway.StandardOutput.ReadLineAsync()) is not null)
    {
        if (line.StartsWith("Airlock proxy listening on ", StringComparison.Ordinal))
        {
            proxy = new Uri(line["Airlock proxy listening on ".Length..]);
        }
    }

    _ = Task.Run(async () => { while (await gateway.StandardOutput.ReadLineAsync() is not null) { } });
    _ = Task.Run(async () => { while (await gateway.StandardError.ReadLineAsync() is not null) { } });
    using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = heldCount + 10 };
    using var client = new HttpClient(handler) { BaseAddress = proxy, Timeout = TimeSpan.FromMinutes(10) };
    client.DefaultRequestHeaders.Authorization = new("Bearer", key);

    // Warm up: a few held requests, then approve nothing; measure from a settled baseline.
    await using (var store = StoreFactory.Create(new SqliteStoreConfig(Path.Combine(directory, "airlock.db")), TimeProvider.System))
    {
        GC.Collect();
        var baseline = Rss(gateway.Id);
        using var cancel = new CancellationTokenSource();
        var held = Enumerable.Range(0, heldCount)
            .Select(i => client.PostAsync("/billing/v1/refunds", new StringContent($"{{\"amount\":{i}}}", Encoding.UTF8, "application/json"), cancel.Token))
            .ToList();
        var pending = 0;
        var clock = Stopwatch.StartNew();
        while (pending < heldCount && clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(200);
            pending = (await store.ListReviewsAsync(ReviewStatus.Pending, heldCount + 10, CancellationToken.None)).Count;
        }

        await Task.Delay(1000);
        var loaded = Rss(gateway.Id);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{pending} requests held at once: gateway RSS {baseline / 1048576.0:0.0} MiB -> {loaded / 1048576.0:0.0} MiB, {(loaded - baseline) / 1024.0 / Math.Max(pending, 1):0.0} KiB per held request"));
        await cancel.CancelAsync();
        try
        {
            await Task.WhenAll(held);
        }
        catch (OperationCanceledException)
        {
        }
    }

    gateway.Kill(entireProcessTree: true);
}

static long Rss(int pid)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    return 0;
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
