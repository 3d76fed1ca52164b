using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

/// <summary>The <c>audit</c> section: a signing key by reference, and how often to sign.</summary>
public class AuditConfigTests
{
    private static readonly (string Private, string Public) Key = AuditSigner.Generate();

    private const string Base = """
        listeners: { proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 }
        store: { sqlite: ./airlock.db }
        identity: { apiKeys: true }
        connections:
          billing:
            upstream: http://127.0.0.1:9000
            credential: { type: none }
        policy: { file: ./policy.yaml }

        """;

    private static ConfigLoadResult Load(string audit, Dictionary<string, string>? env = null) =>
        ConfigLoader.Load(Base + audit, "/etc/airlock/airlock.yaml", name => (env ?? new() { ["AUDIT_KEY"] = Key.Private }).GetValueOrDefault(name));

    [Fact]
    public void A_multi_line_pem_key_by_reference_loads_with_the_interval()
    {
        var result = Load("audit:\n  signingKey: { env: AUDIT_KEY }\n  checkpointEvery: 30s\n");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(Key.Private.TrimEnd(), result.Config!.Audit.SigningKey!.Reveal().TrimEnd());
        Assert.Equal(TimeSpan.FromSeconds(30), result.Config.Audit.CheckpointEvery);
        Assert.DoesNotContain(result.Warnings, w => w.Path == "audit.signingKey");
    }

    [Fact]
    public void Without_a_key_the_gateway_starts_with_a_warning_that_says_what_is_lost()
    {
        var result = Load("");

        Assert.True(result.Succeeded);
        Assert.Null(result.Config!.Audit.SigningKey);
        Assert.Equal(TimeSpan.FromMinutes(10), result.Config.Audit.CheckpointEvery);
        var warning = Assert.Single(result.Warnings, w => w.Path == "audit.signingKey");
        Assert.Contains("a rewrite of the whole trail from some event on cannot be detected", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_public_key_is_refused_with_how_to_make_a_private_one()
    {
        var result = Load("audit:\n  signingKey: { env: AUDIT_KEY }\n", new() { ["AUDIT_KEY"] = Key.Public });

        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.Equal("audit.signingKey", error.Path);
        Assert.Contains("the PEM holds a public key", error.Message, StringComparison.Ordinal);
        Assert.Contains("airlock audit keygen", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("audit:\n  signingKey: -----BEGIN PRIVATE KEY-----\n", "secrets cannot be written inline")]
    [InlineData("audit:\n  signingKey: { env: AUDIT_KEY }\n  checkpointEvery: 0s\n", "audit.checkpointEvery")]
    [InlineData("audit:\n  signingKey: { env: AUDIT_KEY }\n  checkpointEvery: 2d\n", "audit.checkpointEvery")]
    [InlineData("audit:\n  signingKey: { env: AUDIT_KEY }\n  signEvery: 1m\n", "signEvery")]
    public void Bad_audit_settings_are_errors_with_their_place(string audit, string expected)
    {
        var result = Load(audit);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.ToString().Contains(expected, StringComparison.Ordinal));
        Assert.All(result.Errors, e => Assert.True(e.Line > 0));
    }

    [Fact]
    public void A_key_that_is_not_pem_is_refused_without_echoing_it()
    {
        var result = Load("audit:\n  signingKey: { env: AUDIT_KEY }\n", new() { ["AUDIT_KEY"] = "not-a-key-s3cr3t" });

        var error = Assert.Single(result.Errors);
        Assert.Contains("env:AUDIT_KEY", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.ToString(), StringComparison.Ordinal);
    }
}
