using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Airlock.FunctionalTests.Differential;

/// <summary>
/// The parser-differential suite: the systematic search for the next UTF-7 (a request policy
/// reads one way and an upstream another). A generated corpus of requests goes through the real
/// gateway to three real upstream stacks that answer with what they parsed; for every request the
/// gateway let through, each stack must have read the method, path, query parameter, header and
/// body fields the rules read as policy read them. A disagreement fails with the request that
/// caused it and what each side read.
/// <para>
/// CI runs a fixed seed and 2,000 cases. A larger search, by hand:
/// <c>AIRLOCK_DIFFERENTIAL_CASES=50000 AIRLOCK_DIFFERENTIAL_SEED=7 dotnet test
/// tests/Airlock.FunctionalTests -c Release --filter FullyQualifiedName~ParserDifferential</c>.
/// </para>
/// </summary>
public sealed class ParserDifferentialTests(DifferentialStacks stacks, ITestOutputHelper output) : IClassFixture<DifferentialStacks>
{
    private const int DefaultSeed = 18;
    private const int DefaultCases = 2000;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    [Fact]
    public async Task Every_stack_reads_a_request_the_gateway_let_through_as_policy_read_it()
    {
        var seed = Setting("AIRLOCK_DIFFERENTIAL_SEED", DefaultSeed);
        var count = Setting("AIRLOCK_DIFFERENTIAL_CASES", DefaultCases);
        var corpus = DifferentialCorpus.Generate(seed, count);
        output.WriteLine($"parser-differential corpus: seed {seed}, {count} cases, {count * DifferentialStacks.Connections.Length} requests");

        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var examples = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var forwarded = new ConcurrentBag<(DifferentialCase Case, string Connection, JsonNode Echo, Guid Session)>();
        var work = corpus.SelectMany(c => DifferentialStacks.Connections.Select(connection => (Case: c, Connection: connection)));
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, cancellationToken) =>
        {
            var (@case, connection) = item;
            var (outcome, echo, session) = await SendAsync(@case, connection);
            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            examples.TryAdd(outcome, @case.Describe(connection));
            if (echo is not null)
            {
                forwarded.Add((@case, connection, echo, session));
            }
        });

        var findings = new List<string>();
        foreach (var (@case, connection, echo, session) in forwarded.OrderBy(f => f.Case.Number).ThenBy(f => f.Connection, StringComparer.Ordinal))
        {
            var record = await Eventually.GetAsync(() => stacks.Gateway.Store.GetSessionAsync(session, CancellationToken.None), what: $"session {session}");
            var disagreements = DifferentialChecks.Compare(@case, connection, echo, record.Method, record.Path);
            if (disagreements.Count > 0)
            {
                findings.Add(@case.Describe(connection) + "  policy: " + record.Decision + " by " + (record.Rule ?? "(default)")
                    + ", path " + record.Path + "\n  " + string.Join("\n  ", disagreements) + "\n  " + connection + " read: " + echo.ToJsonString());
            }
        }

        var summary = string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key}: {o.Value}"));
        output.WriteLine(summary);
        foreach (var (outcome, example) in examples.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{outcome}, e.g. {example}");
        }

        Assert.True(findings.Count == 0,
            $"seed {seed}, {count} cases: {findings.Count} request(s) read differently by policy and an upstream stack "
            + $"(replay with AIRLOCK_DIFFERENTIAL_SEED={seed} AIRLOCK_DIFFERENTIAL_CASES={count}):\n\n"
            + string.Join("\n", findings.Take(25)) + "\n" + summary);
        // A corpus the gateway refuses wholesale would prove nothing: enough of it must get through.
        Assert.True(forwarded.Count >= count * DifferentialStacks.Connections.Length / 3, $"only {forwarded.Count} requests reached a stack: {summary}");
    }

    /// <summary>Sends one case through the gateway to one stack's connection: the outcome (for the
    /// summary), the stack's answer when the request reached it and it read it, and the session.</summary>
    private async Task<(string Outcome, JsonNode? Echo, Guid Session)> SendAsync(DifferentialCase @case, string connection)
    {
        Wire.Answer? response;
        try
        {
            response = await Wire.SendAsync(stacks.Gateway.ProxyUri, @case.Target(connection), stacks.Key, @case.Method, @case.HeaderLines, @case.Body);
        }
        catch (System.Net.Sockets.SocketException)
        {
            response = null;
        }

        if (response is null)
        {
            return ("closed without an answer", null, Guid.Empty);
        }

        JsonNode? answer = null;
        try
        {
            answer = response.Body.Length > 0 ? JsonNode.Parse(response.Body) : null;
        }
        catch (JsonException)
        {
        }

        if (answer?["stack"] is null)
        {
            var type = ((string?)answer?["type"])?.Replace("urn:airlock:problem:", "", StringComparison.Ordinal) ?? "(no problem)";
            var rule = (string?)answer?["rule"] is { } name ? " by " + name + (answer?["ambiguous"] is null ? "" : " (ambiguous)") : "";
            return ($"{response.Status} {type}{rule}", null, Guid.Empty);
        }

        if (answer["refused"] is not null)
        {
            return ($"{response.Status} refused by {answer["stack"]}", null, Guid.Empty);
        }

        return ("read by a stack", answer, Guid.Parse(response.Headers["Airlock-Session"]));
    }
}
