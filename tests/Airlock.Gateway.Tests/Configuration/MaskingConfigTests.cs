using Airlock.Gateway.Configuration;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Configuration;

/// <summary>A connection's <c>masking</c> section: compiled once, every mistake reported with its place.</summary>
public class MaskingConfigTests
{
    private static ConfigLoadResult Load(string masking, Dictionary<string, string>? env = null) =>
        ConfigLoader.Load($"""
            listeners: {"{"} proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 {"}"}
            store: {"{"} sqlite: ./airlock.db {"}"}
            identity: {"{"} apiKeys: true {"}"}
            connections:
              crm:
                upstream: http://127.0.0.1:9000
                credential: {"{"} type: none {"}"}
                masking:
            {masking}
            policy: {"{"} file: ./policy.yaml {"}"}
            """, "/etc/airlock/airlock.yaml", name => (env ?? new() { ["HASH_KEY"] = "a-hash-key-of-enough-length" }).GetValueOrDefault(name));

    [Fact]
    public void Detectors_groups_custom_regexes_and_fields_compile_into_one_plan()
    {
        var result = Load("""
                  detectors:
                    - { detector: pii }
                    - { detector: payment-card, action: partial }
                    - { regex: 'EMP-[0-9]{6}', label: EMPLOYEE-ID, action: hash }
                  fields:
                    - { path: "$.customers[*].email", action: hash }
                    - { path: "$..ssn", action: drop, label: SSN }
                  hashKey: { env: HASH_KEY }
                  passthrough: [image/*, application/pdf]
                  maxValueBytes: 2MiB
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var masking = result.Config!.Connections.Single().Masking!;
        Assert.Equal(8, masking.Plan.Detectors.Length);
        Assert.Equal(MaskAction.Partial, masking.Plan.Detectors.Single(d => d.Detector.Name == "payment-card").Action);
        Assert.Equal("EMPLOYEE-ID", masking.Plan.Detectors.Single(d => d.Action == MaskAction.Hash).Detector.Label);
        Assert.Equal(["EMAIL", "SSN"], masking.Plan.Fields.Select(f => f.Label));
        Assert.Equal(2L << 20, masking.MaxValueBytes);
        Assert.True(masking.PassesThrough("image/png"));
        Assert.False(masking.PassesThrough("application/octet-stream"));
    }

    [Theory]
    [InlineData("      detectors: [{ detector: credit-card }]", "'credit-card' is not a detector")]
    [InlineData("      detectors: [{ detector: email, action: scramble }]", "'scramble' is not an action")]
    [InlineData("      detectors: [{ regex: 'x+' }]", "a custom detector needs a label")]
    [InlineData("      detectors: [{ regex: '(', label: BAD }]", "is not a valid regular expression")]
    [InlineData("      detectors: [{ regex: '(a)\\1', label: BAD }]", "cannot run in linear time")]
    [InlineData("      detectors: [{ regex: 'x(?=y)', label: BAD }]", "cannot run in linear time")]
    [InlineData("      detectors: [{ detector: email, regex: 'x' }]", "give exactly one of detector")]
    [InlineData("      fields: [{ path: '$.a[?(@.b)]' }]", "no filters or slices")]
    [InlineData("      fields: [{ path: 'customers.email' }]", "starts with $")]
    [InlineData("      fields: [{ path: '$.a', action: hash }]", "the hash action needs a key")]
    [InlineData("      passthrough: [Image/PNG]", "is not a lower-case media type")]
    [InlineData("      passthrough: [image/png]", "names nothing to mask")]
    [InlineData("      detectors: [{ detector: email }]\n      maxValueBytes: 10", "must be a size from")]
    public void Mistakes_are_errors_with_their_place(string masking, string expected)
    {
        var result = Load(masking);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal) && e.Line > 0 && e.Path.StartsWith("connections.crm.masking", StringComparison.Ordinal));
    }

    [Fact]
    public void A_short_hash_key_is_refused_without_echoing_it()
    {
        var result = Load("      fields: [{ path: '$.a', action: hash }]\n      hashKey: { env: HASH_KEY }", new() { ["HASH_KEY"] = "short-s3cret" });

        var error = Assert.Single(result.Errors);
        Assert.Contains("too short for a hash key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("      refuseQueriesOnMaskedFields: true", true)]
    public void Refusing_queries_on_masked_fields_is_opt_in(string extra, bool expected)
    {
        var result = Load("""
                  fields: [{ path: "$..ssn" }]
            """ + "\n" + extra);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(expected, result.Config!.Connections.Single().Masking!.RefuseQueriesOnMaskedFields);
    }
}

public class RateLimitConfigTests
{
    private static ConfigLoadResult Load(string connectionExtra, string topLevel = "") =>
        ConfigLoader.Load($"""
            listeners: {"{"} proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 {"}"}
            store: {"{"} sqlite: ./airlock.db {"}"}
            identity: {"{"} apiKeys: true {"}"}
            connections:
              crm:
                upstream: http://127.0.0.1:9000
                credential: {"{"} type: none {"}"}
            {connectionExtra}
            policy: {"{"} file: ./policy.yaml {"}"}
            {topLevel}
            """, "/etc/airlock/airlock.yaml", _ => null);

    [Fact]
    public void Limits_per_connection_and_per_identity_load()
    {
        var result = Load("    rateLimit: { requests: 100, per: 10s }", "rateLimits: { perIdentity: { requests: 5, per: 1m } }");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(new RateLimit(100, TimeSpan.FromSeconds(10)), result.Config!.Connections.Single().RateLimit);
        Assert.Equal(new RateLimit(5, TimeSpan.FromMinutes(1)), result.Config.PerIdentityRateLimit);
    }

    [Theory]
    [InlineData("    rateLimit: { requests: 0, per: 1m }", "", "connections.crm.rateLimit.requests")]
    [InlineData("    rateLimit: { requests: 10, per: 0s }", "", "connections.crm.rateLimit.per")]
    [InlineData("    rateLimit: { per: 1m }", "", "connections.crm.rateLimit.requests")]
    [InlineData("", "rateLimits: { perCaller: { requests: 1 } }", "rateLimits")]
    public void Bad_limits_are_errors_with_their_place(string connectionExtra, string topLevel, string path)
    {
        var result = Load(connectionExtra, topLevel);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Path.StartsWith(path, StringComparison.Ordinal) && e.Line > 0);
    }
}
