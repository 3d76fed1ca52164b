// The approver's console, measured end to end on a running gateway (`airlock serve` in its own
// process, SQLite, a real upstream, people signing in at the npm oidc-provider of the tests):
//   1. the inbox page (GET /) with a backlog of pending reviews, and a review page: time to the
//      whole server-rendered page (median, p99);
//   2. a decision click: from posting the review page's Approve form (antiforgery token, request
//      hash) to the held agent receiving its response (median, p99);
//   3. proxy throughput (wrk) with no console open and with open consoles holding GET /events,
//      each with and without a review opening every second (the consoles then refresh as
//      console.js does); the gateway's CPU and RSS in each. Rounds alternate the conditions.
// Run: dotnet run -c Release --project bench/Airlock.ConsoleBench [-- --backlog 1000 --pages 200
//      --decisions 100 --consoles 100 --duration 10 --rounds 3]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Airlock.Benchmarks.Approvals;
using Airlock.Benchmarks.Console;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;

var settings = Settings(args);
var backlog = settings("backlog", 1000);
var pageRequests = settings("pages", 200);
var decisions = settings("decisions", 100);
var consoleCount = settings("consoles", 100);
var duration = settings("duration", 10);
var rounds = settings("rounds", 3);
var repository = Repository();
var invariant = CultureInfo.InvariantCulture;

Console.WriteLine($"# The console on {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()} at start");
await using var upstream = await Upstream.StartAsync();
var (provider, issuer) = await Child.StartProviderAsync(repository, new Dictionary<string, string[]> { ["alice"] = ["finance-approvers"] });
using var providerProcess = provider;
var adminPort = FreePort();
var console = new Uri($"http://127.0.0.1:{adminPort}");
var (clientId, clientSecret) = await Person.RegisterConsoleAsync(issuer, console);

var directory = Directory.CreateTempSubdirectory("airlock-console-bench-").FullName;
var configPath = Path.Combine(directory, "airlock.yaml");
File.WriteAllText(Path.Combine(directory, "policy.yaml"), """
    rules:
      - { name: reads, when: { methods: [GET] }, action: allow }
      - name: refunds
        when: { methods: [POST] }
        action: review
        review: { approvers: [finance-approvers], hold: 5m, expires: 1h }
    """);
File.WriteAllText(configPath, $$"""
    listeners: { proxy: 127.0.0.1:0, admin: 127.0.0.1:{{adminPort}} }
    store: { sqlite: ./airlock.db }
    identity:
      apiKeys: true
      oidc:
        - { name: corp, issuer: "{{issuer}}", audience: "urn:airlock", groupsClaim: groups, allowHttp: true }
    connections:
      billing: { upstream: "{{upstream.BaseUri}}", credential: { type: none } }
    policy: { file: ./policy.yaml }
    console:
      issuer: corp
      clientId: {{clientId}}
      clientSecret: { env: AIRLOCK_BENCH_CONSOLE_SECRET }
      publicUrl: {{console.GetLeftPart(UriPartial.Authority)}}
      scopes: [openid, profile, groups]
    """);
Environment.SetEnvironmentVariable("AIRLOCK_BENCH_CONSOLE_SECRET", clientSecret);
var keyOutput = new StringWriter();
var keyError = new StringWriter();
if (await Airlock.Cli.AirlockCli.RunAsync(["keys", "create", "--config", configPath, "--name", "bench-agent"], keyOutput, keyError) != 0)
{
    throw new InvalidOperationException("keys create failed: " + keyError);
}

var key = keyOutput.ToString().Trim();
var serve = new ProcessStartInfo("dotnet") { WorkingDirectory = directory };
foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "airlock.dll"), "serve", "--config", configPath })
{
    serve.ArgumentList.Add(a);
}

serve.Environment["AIRLOCK_BENCH_CONSOLE_SECRET"] = clientSecret;
Uri? proxy = null;
var (gateway, _) = await Child.StartAsync(serve, line =>
{
    if (line.StartsWith("Airlock proxy listening on ", StringComparison.Ordinal))
    {
        proxy = new Uri(line["Airlock proxy listening on ".Length..]);
    }

    return line.StartsWith("Airlock admin listening on ", StringComparison.Ordinal) ? line : null;
});
using var gatewayProcess = gateway;
using var agents = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = proxy, Timeout = TimeSpan.FromMinutes(6) };
agents.DefaultRequestHeaders.Authorization = new("Bearer", key);
await using var store = StoreFactory.Create(new SqliteStoreConfig(Path.Combine(directory, "airlock.db")), TimeProvider.System);
using var alice = new Person(console);
await alice.SignInAsync("alice");

await FillBacklogAsync();
var backlogIds = (await store.ListReviewsAsync(ReviewStatus.Pending, backlog + 10, CancellationToken.None)).Select(r => r.Id).ToList();
await MeasurePagesAsync();
await MeasureDecisionsAsync();
await MeasureThroughputAsync();
Console.WriteLine($"load average {LoadAverage()} at the end");

// The backlog: agents' requests held for review, answered 202 at once (Prefer: respond-async)
// so that the reviews stay pending without a connection each.
async Task FillBacklogAsync()
{
    var clock = Stopwatch.StartNew();
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < backlog)
        {
            using var response = await agents.SendAsync(Refund(i, async: true));
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"backlog request {i}: {(int)response.StatusCode}");
            }
        }
    }));
    Console.WriteLine(string.Create(invariant, $"backlog: {backlog} pending reviews held in {clock.Elapsed.TotalSeconds:0.0} s"));
}

async Task MeasurePagesAsync()
{
    var inbox = new Recorder();
    var size = 0;
    var rows = 0;
    for (var i = 0; i < pageRequests + 20; i++)
    {
        var started = Stopwatch.GetTimestamp();
        var page = await alice.PageAsync("/");
        if (i >= 20)
        {
            inbox.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        size = Encoding.UTF8.GetByteCount(page);
        rows = Regex.Count(page, "<li[ >]");
    }

    Report($"inbox page GET / ({backlog} pending, {rows} rows rendered, {size / 1024.0:0} KiB)", inbox);
    var review = new Recorder();
    for (var i = 0; i < pageRequests + 20; i++)
    {
        var id = backlogIds[i % backlogIds.Count];
        var started = Stopwatch.GetTimestamp();
        var page = await alice.PageAsync($"/reviews/{id}");
        if (i >= 20)
        {
            review.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        size = Encoding.UTF8.GetByteCount(page);
    }

    Report($"review page GET /reviews/{{id}} ({size / 1024.0:0} KiB)", review);
}

// A held agent; the review page read as the approver sees it; then the click: the Approve form
// posted (antiforgery token, request hash), timed to the agent's response.
async Task MeasureDecisionsAsync()
{
    var toAgent = new Recorder();
    var toUpstream = new Recorder();
    var toRedirect = new Recorder();
    var known = new HashSet<Guid>(backlogIds);
    for (var i = 0; i < decisions + 10; i++)
    {
        var arrived = upstream.Expect();
        var held = Timed(agents.SendAsync(Refund(100_000 + i, async: false)));
        Review? review = null;
        while (review is null)
        {
            var newest = await store.ListReviewsAsync(ReviewStatus.Pending, 1, CancellationToken.None);
            review = newest.Count > 0 && !known.Contains(newest[0].Id) ? newest[0] : null;
            if (review is null)
            {
                await Task.Delay(5);
            }
        }

        known.Add(review.Id);
        var (action, fields) = Person.Form(await alice.PageAsync($"/reviews/{review.Id}"), "approve");
        fields["comment"] = "";
        var click = Stopwatch.GetTimestamp();
        var posted = Timed(alice.Pages.PostAsync(action, new FormUrlEncodedContent(fields)));
        var (answer, answered) = await held;
        var (redirect, redirected) = await posted;
        var received = await arrived;
        using (answer)
        using (redirect)
        {
            if (answer.StatusCode != HttpStatusCode.OK || redirect.StatusCode != HttpStatusCode.Redirect
                || redirect.Headers.Location?.OriginalString != $"/reviews/{review.Id}?notice=approved")
            {
                throw new InvalidOperationException($"decision {i}: agent {(int)answer.StatusCode}, console {(int)redirect.StatusCode} {redirect.Headers.Location}");
            }
        }

        if (i >= 10)
        {
            toAgent.Add(Stopwatch.GetElapsedTime(click, answered).TotalMilliseconds);
            toUpstream.Add(Stopwatch.GetElapsedTime(click, received).TotalMilliseconds);
            toRedirect.Add(Stopwatch.GetElapsedTime(click, redirected).TotalMilliseconds);
        }
    }

    Report("decision click -> held agent's response (SQLite)", toAgent);
    Report("decision click -> upstream receives the request", toUpstream);
    Report("decision click -> the console's redirect (POST answered)", toRedirect);
}

// wrk on an allowed GET through the proxy, in rounds: no console open; open consoles holding
// /events; the same consoles while a review opens every second (each console fetches its
// fragment, as console.js does).
async Task MeasureThroughputAsync()
{
    var url = new Uri(proxy!, "/billing/v1/ping").ToString();
    await Wrk(url, duration);
    var results = new Dictionary<string, List<(double Rps, double P50, double P99, int Timeouts, double Cores, long Rss)>>(StringComparer.Ordinal);
    var fetches = new Recorder();
    var events = 0;
    async Task OpenReviewsAsync(CancellationToken stop)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(CancellationToken.None) && !stop.IsCancellationRequested)
        {
            using var response = await agents.SendAsync(Refund(200_000 + events, async: true), CancellationToken.None);
            events++;
        }
    }

    for (var round = 0; round < rounds; round++)
    {
        await Run("no console open", null);
        await Run("no console open, a review opening every second", OpenReviewsAsync);
        var consoles = new List<OpenConsole>();
        for (var c = 0; c < consoleCount; c++)
        {
            consoles.Add(await OpenConsole.OpenAsync(alice, fetches));
        }

        // Settled: every console has fetched its first fragment.
        var settle = Stopwatch.StartNew();
        while (consoles.Any(c => c.Fetched == 0) && settle.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(50);
        }

        await Run($"{consoleCount} consoles holding /events", null);
        fetches.Clear();
        await Run($"{consoleCount} consoles, a review opening every second", OpenReviewsAsync);
        // The refreshes the changes started finish before the consoles close, so that the next
        // condition does not pay for them.
        var drain = Stopwatch.StartNew();
        while (consoles.Any(c => c.Refreshing) && drain.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(50);
        }

        Report($"  inbox fragment fetched by the consoles on a change (round {round + 1}; the last finished {drain.Elapsed.TotalSeconds:0.0} s after wrk)", fetches);
        foreach (var open in consoles)
        {
            await open.DisposeAsync();
        }
    }

    Console.WriteLine($"| condition | req/s | p50 ms | p99 ms | wrk timeouts | gateway CPU (cores) | gateway RSS MiB |");
    Console.WriteLine($"| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (condition, runs) in results)
    {
        Console.WriteLine(string.Create(invariant,
            $"| {condition} | {string.Join(" / ", runs.Select(r => r.Rps.ToString("0", invariant)))} | {string.Join(" / ", runs.Select(r => r.P50.ToString("0.00", invariant)))} | {string.Join(" / ", runs.Select(r => r.P99.ToString("0.00", invariant)))} | {string.Join(" / ", runs.Select(r => r.Timeouts.ToString(invariant)))} | {string.Join(" / ", runs.Select(r => r.Cores.ToString("0.00", invariant)))} | {string.Join(" / ", runs.Select(r => (r.Rss / 1048576.0).ToString("0", invariant)))} |"));
    }

    async Task Run(string condition, Func<CancellationToken, Task>? alongside)
    {
        using var stop = new CancellationTokenSource();
        var side = alongside?.Invoke(stop.Token) ?? Task.CompletedTask;
        var cpu = gateway.Cpu();
        var clock = Stopwatch.StartNew();
        var (rps, p50, p99, timeouts) = await Wrk(url, duration);
        var cores = (gateway.Cpu() - cpu) / clock.Elapsed;
        var rss = gateway.Rss();
        await stop.CancelAsync();
        await side;
        if (!results.TryGetValue(condition, out var runs))
        {
            results[condition] = runs = [];
        }

        runs.Add((rps, p50, p99, timeouts, cores, rss));
        Console.WriteLine(string.Create(invariant, $"  {condition}: {rps:0} req/s, p50 {p50:0.00} ms, p99 {p99:0.00} ms, {timeouts} timeouts (2 s), gateway {cores:0.00} cores, RSS {rss / 1048576.0:0} MiB"));
    }
}

HttpRequestMessage Refund(int amount, bool async)
{
    var request = new HttpRequestMessage(HttpMethod.Post, "/billing/v1/refunds")
    {
        Content = new StringContent($"{{\"amount\":{amount},\"currency\":\"EUR\",\"customer\":\"cus_{amount:D6}\"}}", Encoding.UTF8, "application/json"),
    };
    if (async)
    {
        request.Headers.TryAddWithoutValidation("Prefer", "respond-async");
    }

    return request;
}

async Task<(double Rps, double P50, double P99, int Timeouts)> Wrk(string url, int seconds)
{
    var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in new[] { "-t2", "-c50", $"-d{seconds}s", "--latency", "-H", $"Authorization: Bearer {key}", url })
    {
        info.ArgumentList.Add(a);
    }

    using var wrk = Process.Start(info) ?? throw new InvalidOperationException("cannot start wrk (apt-get install wrk)");
    var output = await wrk.StandardOutput.ReadToEndAsync();
    await wrk.WaitForExitAsync();
    if (Regex.IsMatch(output, @"Non-2xx or 3xx responses"))
    {
        throw new InvalidOperationException("wrk saw errors:\n" + output);
    }

    var rps = double.Parse(Regex.Match(output, @"Requests/sec:\s+([\d.]+)").Groups[1].Value, invariant);
    // Requests unanswered after wrk's 2 s timeout count here, not in the latencies.
    var timeouts = Regex.Match(output, @"timeout (\d+)") is { Success: true } t ? int.Parse(t.Groups[1].Value, invariant) : 0;
    return (rps, Latency(output, "50%"), Latency(output, "99%"), timeouts);
}

static double Latency(string wrk, string percentile)
{
    var match = Regex.Match(wrk, $@"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
    var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
}

static async Task<(T Value, long At)> Timed<T>(Task<T> task)
{
    var value = await task;
    return (value, Stopwatch.GetTimestamp());
}

void Report(string what, Recorder recorder)
{
    var (count, median, p99, max) = recorder.Summary();
    Console.WriteLine(string.Create(invariant, $"{what}: median {median:0.00} ms, p99 {p99:0.00} ms, max {max:0.00} ms over {count}"));
}

static Func<string, int, int> Settings(string[] args) => (name, fallback) =>
{
    var at = Array.IndexOf(args, "--" + name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
};

static string Repository()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Airlock.slnx")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("run from the repository (Airlock.slnx not found above the bench)");
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
