using System.Text;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>A policy rule's <c>mask</c>: parsed, refused where it cannot apply, and added to the connection's masking.</summary>
public class RuleMaskTests
{
    private static PolicyLoadResult Load(string yaml) => PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), "/etc/airlock/policy.yaml");

    [Fact]
    public void An_allow_or_review_rule_can_mask_more()
    {
        var result = Load("""
            rules:
              - name: support-reads
                when: { groups: [support] }
                action: allow
                mask:
                  detectors: [{ detector: payment-card, action: partial }, { detector: email }]
                  fields: [{ path: "$..notes", action: drop }]
              - name: refunds
                when: { methods: [POST] }
                action: review
                review: { approvers: [finance] }
                mask: { detectors: [{ detector: secrets }] }
              - name: plain
                action: allow
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var support = result.Policy!.Rules[0].Mask!;
        Assert.Equal(["email", "payment-card"], support.Detectors.Select(d => d.Detector.Name).Order(StringComparer.Ordinal));
        Assert.Equal(MaskAction.Partial, support.Detectors.Single(d => d.Detector.Name == "payment-card").Action);
        Assert.Equal(MaskAction.Drop, Assert.Single(support.Fields).Action);
        Assert.NotEmpty(result.Policy.Rules[1].Mask!.Detectors);
        Assert.Null(result.Policy.Rules[2].Mask);
    }

    [Theory]
    [InlineData("action: deny\n    mask: { detectors: [{ detector: email }] }", "rules[0].mask", "only allow and review rules")]
    [InlineData("action: allow\n    mask: { detectors: [{ detector: email, action: hash }] }", "rules[0].mask", "cannot hash")]
    [InlineData("action: allow\n    mask: { detectors: [{ detector: emails }] }", "rules[0].mask.detectors[0].detector", "not a detector")]
    [InlineData("action: allow\n    mask: {}", "rules[0].mask", "names nothing to mask")]
    [InlineData("action: allow\n    mask: { detectors: [{ detector: email }], hashKey: { env: K } }", "rules[0].mask", "hashKey")]
    [InlineData("action: allow\n    mask: { fields: [{ path: \"$.a[?(@.b)]\" }] }", "rules[0].mask.fields[0].path", "")]
    [InlineData("action: allow\n    mask: { detectors: [{ regex: \"(?!)\", label: EMAIL }] }", "rules[0].mask.detectors[0].label", "built-in detector")]
    public void A_mask_that_cannot_apply_is_an_error_on_its_line(string rest, string path, string message)
    {
        var result = Load($"rules:\n  - name: r\n    {rest}\n");
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(path, error.Path, StringComparison.Ordinal);
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
        Assert.True(error.Line >= 3, error.ToString());
    }

    [Fact]
    public void A_rule_mask_adds_to_the_connections_and_never_weakens_it()
    {
        Assert.True(Detectors.TryGet("email", out var email));
        Assert.True(Detectors.TryGet("payment-card", out var card));
        Assert.True(JsonPathPattern.TryParse("$.id", out var id, out _));
        Assert.True(JsonPathPattern.TryParse("$..notes", out var notes, out _));
        var key = new byte[32];
        var connection = new MaskingConfig(
            new MaskingPlan([new FieldRule(id!, MaskAction.Hash, "ID")], [new DetectorRule(card, MaskAction.Redact)], key),
            ["image/*"], 4096, 1024);
        // The rule asks for less on cards (partial) and for emails: it gets emails, not less on cards.
        var rule = new MaskingPlan([new FieldRule(notes!, MaskAction.Drop, "NOTES")], [new DetectorRule(card, MaskAction.Partial), new DetectorRule(email, MaskAction.Redact)], null);

        var merged = MaskingConfig.WithRule(connection, rule);

        Assert.Equal(["ID", "NOTES"], merged.Plan.Fields.Select(f => f.Label));
        Assert.Equal(MaskAction.Redact, merged.Plan.Detectors.Single(d => d.Detector.Name == "payment-card").Action);
        var stricter = MaskingConfig.WithRule(connection, new MaskingPlan([], [new DetectorRule(card, MaskAction.Drop)], null));
        Assert.Equal(MaskAction.Drop, stricter.Plan.Detectors.Single(d => d.Detector.Name == "payment-card").Action);
        Assert.Contains(merged.Plan.Detectors, d => d.Detector.Name == "email");
        Assert.Same(key, merged.Plan.HashKey);
        Assert.Equal(["image/*"], merged.Passthrough.ToArray());
        Assert.Equal((4096, 1024), (merged.MaxValueBytes, merged.BufferBytes));

        var alone = MaskingConfig.WithRule(null, rule);
        Assert.Empty(alone.Passthrough);
        Assert.Equal(MaskingConfig.DefaultBufferBytes, alone.BufferBytes);
    }
}
