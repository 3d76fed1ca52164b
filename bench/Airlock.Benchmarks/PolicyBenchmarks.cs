using System.Text;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace Airlock.Benchmarks;

/// <summary>
/// Decision time for a 200-rule policy on a typical request, with and without body rules.
/// The policy has 20 connections of 10 rules each (allow reads, review writes, deny deletes,
/// path globs, groups, a query test, and on one connection JSON body rules).
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private CompiledPolicy _policy = null!;
    private RequestFacts _read = null!;
    private RequestFacts _refund = null!;
    private byte[] _refundBody = [];
    private CallerIdentity _identity = null!;
    private HeaderDictionary _headers = null!;

    [GlobalSetup]
    public void Setup()
    {
        var yaml = new StringBuilder("rules:\n");
        for (var c = 0; c < 20; c++)
        {
            var conn = c == 0 ? "billing" : $"service{c}";
            yaml.Append($$"""
                  - { name: {{conn}}-read, when: { connections: [{{conn}}], methods: [GET, HEAD], paths: ["/{{conn}}/v1/**"], groups: [agents] }, action: allow }
                  - { name: {{conn}}-admin, when: { connections: [{{conn}}], paths: ["/{{conn}}/admin/**"] }, action: deny }
                  - { name: {{conn}}-delete, when: { connections: [{{conn}}], methods: [DELETE] }, action: deny }
                  - { name: {{conn}}-write, when: { connections: [{{conn}}], methods: [PUT, PATCH], paths: ["/{{conn}}/v1/*/settings"] }, action: review, review: { approvers: [ops] } }
                  - { name: {{conn}}-export, when: { connections: [{{conn}}], paths: ["/{{conn}}/v1/exports/*.csv"], groups: { allOf: [agents, exports] } }, action: allow }
                  - { name: {{conn}}-limit, when: { connections: [{{conn}}], methods: [GET], query: { limit: { lte: 500 } } }, action: allow }
                  - { name: {{conn}}-prod, when: { connections: [{{conn}}], headers: { X-Env: prod }, methods: [POST] }, action: review, review: { approvers: [ops] } }
                  - { name: {{conn}}-people, when: { connections: [{{conn}}], subjects: ["corp:alice", "corp:bob"] }, action: allow }
                  - { name: {{conn}}-keys, when: { connections: [{{conn}}], keys: [{{conn}}-agent], methods: [POST], paths: ["/{{conn}}/v1/jobs"] }, action: allow }

                """);
            yaml.Append(c == 0
                ? "  - { name: billing-refunds, when: { connections: [billing], methods: [POST], paths: [/billing/v1/refunds], body: { $.amount: { lte: 100 }, $.currency: { in: [USD, EUR] } } }, action: allow }\n"
                : $"  - {{ name: {conn}-misc, when: {{ connections: [{conn}], methods: [OPTIONS] }}, action: allow }}\n");
        }

        var result = PolicyParser.Load(Encoding.UTF8.GetBytes(yaml.ToString()), "/bench/policy.yaml");
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join('\n', result.Errors));
        }

        _policy = result.Policy!;
        _identity = new CallerIdentity("key:billing-agent", "apikey", "airlock", "billing-agent", "0123456789abcdef", ["agents", "billing"]);
        _headers = new HeaderDictionary { ["Accept"] = "application/json", ["User-Agent"] = "agent/1.0" };
        _read = new RequestFacts(_identity, "billing", "GET", "/billing/v1/customers/42/invoices", "limit=50", _headers);
        _refundBody = "{\"customer\":\"cus_42\",\"amount\":40.5,\"currency\":\"EUR\",\"reason\":\"duplicate charge\"}"u8.ToArray();
        _refund = new RequestFacts(_identity, "billing", "POST", "/billing/v1/refunds", null, _headers) { Body = InspectedBody.Read(_refundBody) };
        if (_policy.Rules.Length != 200 || Decide(_read).RuleName != "billing-read" || Decide(_refund).RuleName != "billing-refunds")
        {
            throw new InvalidOperationException("the benchmark policy does not decide as intended");
        }
    }

    private PolicyDecision Decide(RequestFacts facts) => _policy.Decide(facts);

    // Each returns the deciding rule's name, not the internal PolicyDecision: BenchmarkDotNet's
    // generated project cannot see the gateway's internal types.

    /// <summary>A typical read: no rule needs the body.</summary>
    [Benchmark(Baseline = true)]
    public string DecideWithoutBodyRules() => _policy.Decide(_read).RuleName;

    /// <summary>The same, counting the per-request facts object the gateway allocates.</summary>
    [Benchmark]
    public string BuildFactsAndDecide() =>
        _policy.Decide(new RequestFacts(_identity, "billing", "GET", "/billing/v1/customers/42/invoices", "limit=50", _headers)).RuleName;

    /// <summary>A refund decided by JSON body rules, the body already parsed.</summary>
    [Benchmark]
    public string DecideWithBodyRules() => _policy.Decide(_refund).RuleName;

    /// <summary>Reading the 90-byte JSON body strictly (parse, duplicate and case checks), then deciding.</summary>
    [Benchmark]
    public string ParseBodyAndDecide()
    {
        using var body = InspectedBody.Read(_refundBody);
        var facts = new RequestFacts(_identity, "billing", "POST", "/billing/v1/refunds", null, _headers) { Body = body };
        return _policy.Decide(facts).RuleName;
    }
}
