using Airlock.Gateway.Configuration;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Properties of <see cref="ConfigLoader"/>: whatever the file holds, loading it gives either a
/// whole configuration or a list of errors, each with the line an operator must fix, and never
/// throws.
/// </summary>
public class ConfigParserProperties
{
    private static readonly long Iterations = PropertySize.Iterations(1_000);

    private static readonly string Quickstart = YamlMutations.Sample("samples/quickstart/airlock.yaml");

    private static ConfigLoadResult Load(string yaml, bool resolveSecrets) =>
        ConfigLoader.Load(yaml, "/nonexistent/airlock/airlock.yaml", _ => "0123456789abcdef0123456789abcdef", resolveSecrets);

    [Fact]
    public void The_quickstart_sample_loads()
    {
        var result = Load(Quickstart, resolveSecrets: false);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    [Fact]
    public void An_edited_sample_loads_or_lists_its_errors_with_lines()
    {
        Gen.Select(Gen.Int, YamlMutations.Edit.Array[1, 4], Gen.Bool).Check((seed, inserts, resolveSecrets) =>
        {
            AssertLoadsOrListsErrors(YamlMutations.Mutate(Quickstart, seed, inserts), resolveSecrets);
        }, iter: Iterations, print: s => YamlMutations.Mutate(Quickstart, s.Item1, s.Item2));
    }

    [Fact]
    public void Any_text_loads_or_lists_its_errors()
    {
        Gen.Frequency((1, Gen.String), (1, YamlMutations.Edit.Array[0, 20].Select(string.Concat))).Check(text =>
        {
            AssertLoadsOrListsErrors(text, resolveSecrets: false);
        }, iter: Iterations);
    }

    private static void AssertLoadsOrListsErrors(string yaml, bool resolveSecrets)
    {
        var result = Load(yaml, resolveSecrets);

        if (result.Config is not null)
        {
            Assert.Empty(result.Errors);
            return;
        }

        Assert.NotEmpty(result.Errors);
        // A line an operator is sent to is in the file, or just past it where YAML ends too soon.
        var lineCount = YamlMutations.LineCount(yaml);
        Assert.All(result.Errors, e => Assert.InRange(e.Line, 0, lineCount + 1));
        // A whole-file error has no line: an empty file, or YAML the parser gives up on
        // without saying where.
        Assert.All(result.Errors, e => Assert.True(e.Line > 0 || e.Message is "the file is empty" || e.Message.StartsWith("invalid YAML", StringComparison.Ordinal), $"no line: {e}"));
    }
}
