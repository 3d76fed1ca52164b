using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Policy;

public sealed class PolicyCliTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("airlock-policy-cli-").FullName;

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Config(string policy)
    {
        Write("policy.yaml", policy);
        // The upstream secret is not set in this process: policy tools never need it.
        return Write("airlock.yaml", new GatewayConfig().Connection("billing", new Uri("http://127.0.0.1:9")).Connection("crm", new Uri("http://127.0.0.1:9")).ToYaml());
    }

    [Fact]
    public async Task Check_prints_every_error_and_warning_and_fails_on_errors()
    {
        var config = Config("");
        var bad = Write("bad.yaml", """
            allowUnmatched: [crm]
            rules:
              - { name: all-billing, when: { connections: [billing] }, action: allow }
              - { name: billing-reads, when: { connections: [billing], methods: [GET] }, action: allow }
              - { name: nope, when: { connections: [erp] }, action: deny }
              - { name: needs-approval, action: review }
            """);

        var (exit, stdout, _) = await RunAsync("policy", "check", bad, "--config", config);

        Assert.Equal(2, exit);
        Assert.Contains($"error: {bad}:5:", stdout, StringComparison.Ordinal);
        Assert.Contains("'erp' is not a configured connection", stdout, StringComparison.Ordinal);
        Assert.Contains("a review rule needs review settings with at least one approver group", stdout, StringComparison.Ordinal);
        Assert.Contains("error(s)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_passes_a_good_policy_and_lists_its_warnings()
    {
        var config = Config("");
        var good = Write("good.yaml", """
            allowUnmatched: [crm]
            rules:
              - { name: all-billing, when: { connections: [billing] }, action: allow }
              - { name: billing-reads, when: { connections: [billing], methods: [GET] }, action: allow }
            """);

        var (exit, stdout, _) = await RunAsync("policy", "check", good, "--config", config);

        Assert.Equal(0, exit);
        Assert.Contains("warning:", stdout, StringComparison.Ordinal);
        Assert.Contains("connection 'crm' is on default ALLOW", stdout, StringComparison.Ordinal);
        Assert.Contains("'billing-reads': is shadowed", stdout, StringComparison.Ordinal);
        Assert.Contains("OK: 2 rule(s), 0 guardrail(s), 2 warning(s)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_prints_the_decision_the_rule_and_why_the_others_did_not_match()
    {
        var config = Config("""
            rules:
              - name: read-billing
                when: { connections: [billing], methods: [GET] }
                action: allow
              - name: pricing
                when: { methods: [PUT], paths: ["/billing/v1/plans/*"], groups: [agents] }
                action: review
                review: { approvers: [finance-approvers] }
              - name: cheap-plans
                when: { methods: [PUT], paths: ["/billing/v1/plans/*"], body: { $.monthlyPrice: { lt: 10 } } }
                action: allow
            """);
        var body = Write("plan.json", "{\"monthlyPrice\": 5}");

        var (exit, stdout, stderr) = await RunAsync("policy", "test", "--config", config, "--as", "key:billing-agent", "--groups", "agents",
            "--method", "PUT", "--path", "/billing/v1/plans/42", "--body", "@" + body);

        Assert.True(exit == 0, stderr);
        Assert.Contains("decision: review", stdout, StringComparison.Ordinal);
        Assert.Contains("rule:     pricing (line 5)", stdout, StringComparison.Ordinal);
        Assert.Contains(" - read-billing", stdout, StringComparison.Ordinal);
        Assert.Contains("methods: PUT is not one of GET", stdout, StringComparison.Ordinal);
        Assert.Contains("=> pricing", stdout, StringComparison.Ordinal);
        Assert.Contains(" + cheap-plans", stdout, StringComparison.Ordinal);
        Assert.Contains("matched, but review beats allow: rule 'pricing' decides", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_can_try_a_draft_policy_and_refuses_what_the_gateway_would_refuse()
    {
        var config = Config("rules: []");
        var draft = Write("draft.yaml", "rules:\n  - { name: everything, action: allow }\n");

        var allowed = await RunAsync("policy", "test", "--config", config, "--policy", draft, "--as", "corp:alice", "--path", "/crm/x");
        var badPath = await RunAsync("policy", "test", "--config", config, "--as", "corp:alice", "--path", "/crm/%2Fx");
        var badSubject = await RunAsync("policy", "test", "--config", config, "--as", "alice", "--path", "/crm/x");
        var badConnection = await RunAsync("policy", "test", "--config", config, "--as", "corp:alice", "--path", "/erp/x");

        Assert.Contains("decision: allow", allowed.Out, StringComparison.Ordinal);
        Assert.Equal(2, badPath.Exit);
        Assert.Contains("would refuse the path", badPath.Err, StringComparison.Ordinal);
        Assert.Contains("write the subject as key:<api key name> or <issuer name>:<sub>", badSubject.Err, StringComparison.Ordinal);
        Assert.Contains("'erp' is not a configured connection", badConnection.Err, StringComparison.Ordinal);
    }
}
