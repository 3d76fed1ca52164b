using Airlock.Gateway.Audit;
using Airlock.Gateway.Identity.ApiKeys;

namespace Airlock.Gateway.Tests.Audit;

/// <summary>The event the CLI writes when a key is created or revoked: which key and by whom,
/// never anything of its secret.</summary>
public sealed class ApiKeyEventTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly AuditActor Operator = new("local:ops", [], "local");

    [Fact]
    public void A_created_key_is_named_with_its_groups_and_owner_and_the_canonical_form_holds_no_secret()
    {
        var hash = new byte[] { 0xde, 0xad, 0xbe, 0xef };
        var key = new ApiKey("k_7f3a", "deploy-bot", ["agents", "deployers"], hash, At.AddDays(-1), null) { Owner = "corp:alice" };

        var created = AuditTrail.ApiKeyEvent(AuditKinds.KeyCreated, "created", key, Operator, At);

        Assert.Equal((AuditKinds.KeyCreated, "created", At, Operator), (created.Kind, created.Outcome, created.At, created.Actor));
        Assert.Equal([("groups", "agents,deployers"), ("keyId", "k_7f3a"), ("name", "deploy-bot"), ("owner", "corp:alice")],
            created.Detail.Select(d => (d.Key, d.Value)));
        Assert.Null(created.Target);
        var canonical = System.Text.Encoding.UTF8.GetString(AuditChain.Canonicalize(created));
        Assert.DoesNotContain("deadbeef", canonical, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("3q2+7w", canonical, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_without_owner_or_groups_says_so_by_leaving_the_owner_out()
    {
        var key = new ApiKey("k_1", "lonely", [], new byte[32], At, At);

        var revoked = AuditTrail.ApiKeyEvent(AuditKinds.KeyRevoked, "revoked", key, Operator, At);

        Assert.Equal([("groups", ""), ("keyId", "k_1"), ("name", "lonely")], revoked.Detail.Select(d => (d.Key, d.Value)));
    }
}
