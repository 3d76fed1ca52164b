using System.Net;
using System.Text;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Masking;

/// <summary>
/// Masking per policy rule, and so per identity: the same connection, the same upstream reply,
/// and what each caller sees depends on the rule that let its request through.
/// </summary>
public sealed class RuleMaskingTests : IAsyncLifetime
{
    private const string Reply = """{"customer":{"email":"ada@example.com","card":"4111 1111 1111 1111","notes":"VIP since 2020"}}""";

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/customers/1"] = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Reply);
        };
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - name: finance-reads
                    when: { groups: [finance] }
                    action: allow
                  - name: support-reads
                    when: { groups: [support] }
                    action: allow
                    mask:
                      detectors: [{ detector: email }]
                      fields: [{ path: "$..notes", action: drop }]
                """,
        }.Connection("crm", _upstream.BaseUri, """
                masking: { detectors: [{ detector: payment-card, action: partial }] }
                recording: { maxBodyBytes: 64KiB }
            """));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_rule_masks_more_for_the_callers_it_matches_and_the_recording_holds_what_each_saw()
    {
        var finance = await _gateway.CreateApiKeyAsync("finance-agent", "finance");
        var support = await _gateway.CreateApiKeyAsync("support-agent", "support");

        using var financeResponse = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/customers/1", finance));
        using var supportResponse = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/customers/1", support));
        var financeBody = await financeResponse.Content.ReadAsStringAsync();
        var supportBody = await supportResponse.Content.ReadAsStringAsync();

        // The connection's masking applies to both: the card keeps its last four digits.
        Assert.Equal(HttpStatusCode.OK, financeResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, supportResponse.StatusCode);
        Assert.DoesNotContain("4111 1111 1111 1111", financeBody, StringComparison.Ordinal);
        Assert.DoesNotContain("4111 1111 1111 1111", supportBody, StringComparison.Ordinal);
        Assert.Contains("1111", supportBody, StringComparison.Ordinal);

        // The support rule's mask adds the email and drops the notes; finance sees both.
        Assert.Contains("ada@example.com", financeBody, StringComparison.Ordinal);
        Assert.Contains("VIP since 2020", financeBody, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", supportBody, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:EMAIL]", supportBody, StringComparison.Ordinal);
        Assert.DoesNotContain("notes", supportBody, StringComparison.Ordinal);
        Assert.Equal("1", financeResponse.Headers.GetValues("Airlock-Masked").Single());
        Assert.Equal("3", supportResponse.Headers.GetValues("Airlock-Masked").Single());

        var supportSession = await _gateway.SessionAsync(supportResponse);
        Assert.Equal("support-reads", supportSession.Rule);
        Assert.Equal(3, supportSession.Masked);
        var recorded = await Eventually.GetAsync(() => _gateway.Store.GetExchangeAsync(supportSession.Id, CancellationToken.None), what: "the support exchange");
        var recordedBody = Encoding.UTF8.GetString(recorded.ResponseBody);
        Assert.DoesNotContain("ada@example.com", recordedBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VIP since 2020", recordedBody, StringComparison.Ordinal);
    }
}
