using System.Reflection;
using System.Text.RegularExpressions;
using Airlock.Gateway.Errors;

namespace Airlock.Gateway.Tests.Errors;

/// <summary>
/// docs/errors.md is the contract clients branch on: it lists every problem type the gateway
/// can answer with, with its status, and no type the gateway never produces.
/// </summary>
public sealed partial class ErrorsDocsTests
{
    private static string RepositoryPath(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Airlock.slnx")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Airlock.slnx) above " + AppContext.BaseDirectory);
    }

    private static Dictionary<string, ProblemType> Declared() =>
        typeof(ProblemType).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(ProblemType))
            .ToDictionary(f => f.Name, f => (ProblemType)f.GetValue(null)!);

    /// <summary>The table rows of docs/errors.md: type name and status, as often as listed.</summary>
    private static List<(string Name, int Status)> Documented() =>
        [.. TableRow().Matches(File.ReadAllText(RepositoryPath("docs", "errors.md")))
            .Select(m => (m.Groups["name"].Value, int.Parse(m.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture)))];

    [Fact]
    public void Every_problem_type_of_the_code_is_documented_and_every_documented_one_exists()
    {
        var declared = Declared().Values.ToDictionary(t => t.Name);
        var documented = Documented();

        Assert.NotEmpty(documented);
        Assert.Empty(declared.Keys.Except(documented.Select(d => d.Name)).Order());
        Assert.Empty(documented.Select(d => d.Name).Except(declared.Keys).Distinct().Order());
        Assert.Empty(documented.Where(d => declared[d.Name].Status != d.Status)
            .Select(d => $"{d.Name}: documented {d.Status}, answered with {declared[d.Name].Status}"));
    }

    [Fact]
    public void Every_problem_type_is_answered_with_somewhere_in_the_gateway()
    {
        var source = RepositoryPath("src");
        var code = string.Join('\n', Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && Path.GetFileName(f) != "ProblemType.cs")
            .Select(File.ReadAllText));

        var unused = Declared().Keys.Where(field => !Regex.IsMatch(code, $@"\bProblemType\.{field}\b")).Order();

        Assert.Empty(unused);
    }

    [GeneratedRegex(@"^\| `urn:airlock:problem:(?<name>[a-z-]+)` \| (?<status>\d{3}) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
