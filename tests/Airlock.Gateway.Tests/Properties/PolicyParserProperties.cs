using System.Text;
using Airlock.Gateway.Policy;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Properties of <see cref="PolicyParser"/>: whatever the file holds (edited samples, any
/// bytes, invalid UTF-8 included), loading it gives a compiled policy or a list of errors with
/// lines, and never throws.
/// </summary>
public class PolicyParserProperties
{
    private static readonly long Iterations = PropertySize.Iterations(1_000);

    private static readonly string Quickstart = YamlMutations.Sample("samples/quickstart/policy.yaml");

    private static readonly HashSet<string> Connections = ["billing", "crm"];

    [Fact]
    public void The_quickstart_policy_compiles()
    {
        var result = PolicyParser.Load(Encoding.UTF8.GetBytes(Quickstart), "/etc/airlock/policy.yaml", Connections);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    [Fact]
    public void An_edited_policy_compiles_or_lists_its_errors_with_lines()
    {
        Gen.Select(Gen.Int, YamlMutations.Edit.Array[1, 4]).Check((seed, inserts) =>
        {
            AssertCompilesOrListsErrors(Encoding.UTF8.GetBytes(YamlMutations.Mutate(Quickstart, seed, inserts)), lines: true);
        }, iter: Iterations, print: s => YamlMutations.Mutate(Quickstart, s.Item1, s.Item2));
    }

    [Fact]
    public void Any_bytes_compile_or_list_their_errors()
    {
        Gen.Byte.Array[0, 200].Check(bytes =>
        {
            // Bytes that are not UTF-8 are one error for the whole file, with no line.
            AssertCompilesOrListsErrors(bytes, lines: false);
            if (!IsUtf8(bytes))
            {
                var error = Assert.Single(PolicyParser.Load(bytes, "/etc/airlock/policy.yaml", Connections).Errors);
                Assert.Equal((0, "the policy file is not valid UTF-8"), (error.Line, error.Message));
            }
        }, iter: Iterations);
    }

    private static void AssertCompilesOrListsErrors(byte[] bytes, bool lines)
    {
        var result = PolicyParser.Load(bytes, "/etc/airlock/policy.yaml", Connections);

        if (result.Policy is not null)
        {
            Assert.Empty(result.Errors);
            return;
        }

        Assert.NotEmpty(result.Errors);
        // A line an operator is sent to is in the file, or just past it where YAML ends too soon.
        var lineCount = YamlMutations.LineCount(Encoding.UTF8.GetString(bytes));
        Assert.All(result.Errors, e => Assert.InRange(e.Line, 0, lineCount + 1));
        if (lines)
        {
            // A whole-file error has no line: an empty file, or YAML the parser gives up on
        // without saying where.
        Assert.All(result.Errors, e => Assert.True(e.Line > 0 || e.Message is "the file is empty" || e.Message.StartsWith("invalid YAML", StringComparison.Ordinal), $"no line: {e}"));
        }
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
