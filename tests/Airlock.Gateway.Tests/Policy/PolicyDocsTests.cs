using System.Text;
using System.Text.RegularExpressions;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>The examples in docs/policy.md and the quick-start policy are real policies.</summary>
public partial class PolicyDocsTests
{
    private static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException(Path.Combine(parts));
    }

    public static TheoryData<int, string> Examples()
    {
        var data = new TheoryData<int, string>();
        var markdown = File.ReadAllText(RepositoryFile("docs", "policy.md"));
        var index = 0;
        foreach (Match block in YamlBlock().Matches(markdown))
        {
            var yaml = block.Groups[1].Value;
            // Examples are excerpts: a list of rules, or a whole file.
            var document = yaml.TrimStart().StartsWith("- name", StringComparison.Ordinal) ? "rules:\n" + yaml : yaml;
            data.Add(index++, document);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_in_the_policy_docs_loads(int index, string yaml)
    {
        if (yaml.Contains("approvers: [finance-approvers]   # required", StringComparison.Ordinal))
        {
            // The annotated review block is a fragment of a rule, not a policy.
            yaml = "rules:\n  - name: r\n    action: review\n    review:\n" + string.Join('\n', yaml.Split('\n').SkipWhile(l => !l.Contains("approvers", StringComparison.Ordinal)));
        }

        var result = PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), $"docs/policy.md example {index}");

        Assert.True(result.Succeeded, $"example {index} does not load:\n{string.Join("\n", result.Errors)}\n---\n{yaml}");
    }

    [Fact]
    public void The_policy_in_the_masking_docs_loads()
    {
        var markdown = File.ReadAllText(RepositoryFile("docs", "masking.md"));
        var policies = YamlBlock().Matches(markdown).Select(m => m.Groups[1].Value).Where(y => y.StartsWith("rules:", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(policies);
        foreach (var yaml in policies)
        {
            var result = PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), "docs/masking.md");
            Assert.True(result.Succeeded, $"does not load:\n{string.Join("\n", result.Errors)}\n---\n{yaml}");
        }
    }

    [Fact]
    public void The_quickstart_policy_loads_without_warnings()
    {
        var result = PolicyParser.LoadFile(RepositoryFile("samples", "quickstart", "policy.yaml"));

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
    }

    [GeneratedRegex("```yaml\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();
}
