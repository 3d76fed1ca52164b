using System.CommandLine;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Policy;

namespace Airlock.Cli.Commands;

/// <summary><c>airlock policy check|test</c>: lint a policy file; explain a decision.</summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var policy = new Command("policy", "Check a policy file, or test what it decides for a request.");
        policy.Subcommands.Add(CheckCommand());
        policy.Subcommands.Add(TestCommand());
        return policy;
    }

    private static Command CheckCommand()
    {
        var file = new Argument<string>("file") { Description = "The policy file to check." };
        var config = ConfigOption.Create();
        config.Description = "The gateway configuration, to check connection names against it (default: $AIRLOCK_CONFIG, if set).";
        var command = new Command("check", "Validate a policy file and print every error and warning: unknown connections, shadowed or unreachable rules, connections on default allow, review rules without approvers.")
        {
            file, config,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            IReadOnlySet<string>? connections = null;
            var configPath = parse.GetValue(config) ?? Environment.GetEnvironmentVariable(ConfigOption.EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(configPath))
            {
                var loaded = ConfigLoader.LoadFile(configPath, resolveSecrets: false);
                if (!loaded.Succeeded)
                {
                    foreach (var e in loaded.Errors)
                    {
                        error.WriteLine($"error: {e}");
                    }

                    return AirlockCli.InvalidInput;
                }

                connections = loaded.Config!.Connections.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            }

            var result = PolicyParser.LoadFile(parse.GetValue(file)!, connections);
            foreach (var e in result.Errors)
            {
                output.WriteLine($"error: {e}");
            }

            foreach (var w in result.Warnings)
            {
                output.WriteLine($"warning: {w}");
            }

            if (!result.Succeeded)
            {
                output.WriteLine($"{result.Errors.Count} error(s), {result.Warnings.Count} warning(s): the policy would be rejected.");
                return AirlockCli.InvalidInput;
            }

            var p = result.Policy!;
            output.WriteLine($"OK: {p.Rules.Length} rule(s), {p.Guardrails.Length} guardrail(s), {result.Warnings.Count} warning(s); version {p.Version}"
                + (connections is null ? " (connections not checked: give --config)" : ""));
            return 0;
        });
        return command;
    }

    private static Command TestCommand()
    {
        var config = ConfigOption.Create();
        var policyFile = new Option<string?>("--policy") { Description = "Test this policy file instead of the configuration's (e.g. a draft)." };
        var subject = new Option<string>("--as") { Description = "The caller: key:<key name> or <issuer>:<sub>.", Required = true };
        var groups = new Option<string[]>("--groups") { Description = "The caller's groups, comma-separated.", AllowMultipleArgumentsPerToken = true };
        var method = new Option<string>("--method") { Description = "The HTTP method.", DefaultValueFactory = _ => "GET" };
        var path = new Option<string>("--path") { Description = "The path the agent calls, with the connection: /billing/v1/plans/42?x=1.", Required = true };
        var body = new Option<string?>("--body") { Description = "The request body, or @file to read it from a file." };
        var headers = new Option<string[]>("--header", "-H") { Description = "A request header, 'Name: value'; repeatable." };
        var command = new Command("test", "Print the decision a policy makes for a request, the rule that makes it, and why every other rule did not.")
        {
            config, policyFile, subject, groups, method, path, body, headers,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var configPath = ConfigOption.Resolve(parse, config);
            if (configPath is null)
            {
                return AirlockCli.InvalidInput;
            }

            var loaded = ConfigLoader.LoadFile(configPath, resolveSecrets: false);
            if (!loaded.Succeeded)
            {
                foreach (var e in loaded.Errors)
                {
                    error.WriteLine($"error: {e}");
                }

                return AirlockCli.InvalidInput;
            }

            var connections = loaded.Config!.Connections.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var policy = PolicyParser.LoadFile(parse.GetValue(policyFile) ?? loaded.Config.Policy.File, connections);
            if (!policy.Succeeded)
            {
                foreach (var e in policy.Errors)
                {
                    error.WriteLine($"error: {e}");
                }

                return AirlockCli.InvalidInput;
            }

            byte[]? bodyBytes = null;
            if (parse.GetValue(body) is { } bodyText)
            {
                try
                {
                    bodyBytes = bodyText.StartsWith('@') ? File.ReadAllBytes(bodyText[1..]) : System.Text.Encoding.UTF8.GetBytes(bodyText);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"error: cannot read the body from {bodyText[1..]}: {ex.Message}");
                    return AirlockCli.InvalidInput;
                }
            }

            var headerPairs = new List<KeyValuePair<string, string>>();
            foreach (var header in parse.GetValue(headers) ?? [])
            {
                var colon = header.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    error.WriteLine($"error: --header '{header}' is not 'Name: value'");
                    return AirlockCli.InvalidInput;
                }

                headerPairs.Add(new(header[..colon].Trim(), header[(colon + 1)..].Trim()));
            }

            var groupList = (parse.GetValue(groups) ?? []).SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            var (facts, problem) = await DescribedRequest.BuildAsync(parse.GetValue(subject)!, groupList, parse.GetValue(method)!, parse.GetValue(path)!,
                headerPairs, bodyBytes, connections, cancellationToken);
            if (facts is null)
            {
                error.WriteLine($"error: {problem}");
                return AirlockCli.InvalidInput;
            }

            using (facts.Body)
            {
                var masking = loaded.Config.Connections.First(c => c.Name == facts.Connection).Masking;
                Print(output, PolicyExplainer.Explain(policy.Policy!, facts, masking), facts);
            }

            return 0;
        });
        return command;
    }

    private static void Print(TextWriter output, PolicyExplanation explanation, RequestFacts facts)
    {
        var decision = explanation.Decision;
        output.WriteLine(explanation.Refusal is { } refusal
            ? $"decision: refused ({refusal.Problem.Status} {refusal.Problem.Name}), before {decision.Action.ToString().ToLowerInvariant()} could apply"
            : $"decision: {decision.Action.ToString().ToLowerInvariant()}");
        output.WriteLine($"rule:     {(decision.Rule is { } r ? $"{r.Name} (line {r.Line})" : "(none: the connection's default)")}");
        output.WriteLine($"policy:   {decision.PolicyVersion}");
        if (decision.Ambiguous is { } ambiguous)
        {
            output.WriteLine($"ambiguous: {Printable.Text(ambiguous)} (the rule holds because ambiguity counts against a request)");
        }

        output.WriteLine($"request:  {facts.Method} {facts.Path}{(facts.RawQuery is null ? "" : "?" + facts.RawQuery)} as {facts.Identity.Subject}"
            + (facts.Body is { Kind: not BodyKind.Empty } b ? $", body read as {b.Kind.ToString().ToLowerInvariant()}" : ""));
        output.WriteLine();
        output.WriteLine(Printable.Text(explanation.Summary));
        output.WriteLine();
        var width = Math.Max(4, explanation.Rules.Select(x => x.Rule.Length).DefaultIfEmpty(4).Max());
        foreach (var rule in explanation.Rules)
        {
            var mark = rule.Decided ? "=>" : rule.Matched ? " +" : " -";
            output.WriteLine($"{mark} {rule.Rule.PadRight(width)}  {rule.Action,-6}  line {rule.Line,-4}  {Printable.Text(rule.Note ?? (rule.Decided ? "decides" : "matched"))}");
        }
    }
}
