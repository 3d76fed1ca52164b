using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>Random edits of a valid YAML file (lines dropped, repeated, swapped, re-indented,
/// values replaced by YAML's awkward forms, text inserted or cut), and the samples to edit.</summary>
internal static partial class YamlMutations
{
    private static readonly string[] Awkward =
    [
        "", "[", "]", "{", "}", ":", "- ", "&a ", "*a", "<<: *a", "!!binary ", "!!python/object ", "'", "\"", "\t", "~", "null",
        "0x1F", "-1", "1e999", "99999999999999999999", "yes", "\"\\u0000\"", "%YAML 1.2", "---", "...", "#", "|", ">-", "? ",
        "\u00e9", "\U0001F511", "\u0000", "\r", "  ", "[a, b]", "{a: 1}", "1KiB", "0s", "-5m", "https://", "$..x", "$[?(@.a)]",
    ];

    public static readonly Gen<string> Edit = Gen.OneOf(Awkward);

    /// <summary>A sample file from the repository.</summary>
    public static string Sample(string relativePath)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Airlock.slnx")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllText(Path.Combine(directory?.FullName ?? throw new InvalidOperationException("repository root not found"), relativePath));
    }

    /// <summary>Applies up to a few edits to <paramref name="yaml"/>, chosen from a seed.</summary>
    public static string Mutate(string yaml, int seed, string[] inserts)
    {
        var random = new Random(seed);
        var lines = yaml.Split('\n').ToList();
        var edits = random.Next(1, 5);
        for (var e = 0; e < edits && lines.Count > 0; e++)
        {
            var at = random.Next(lines.Count);
            var insert = inserts[random.Next(inserts.Length)];
            switch (random.Next(7))
            {
                case 0:
                    lines.RemoveAt(at);
                    break;
                case 1:
                    lines.Insert(at, lines[at]);
                    break;
                case 2:
                    (lines[at], lines[random.Next(lines.Count)]) = (lines[random.Next(lines.Count)], lines[at]);
                    break;
                case 3:
                    lines[at] = random.Next(2) == 0 ? " " + lines[at] : lines[at].TrimStart();
                    break;
                case 4:
                    var colon = lines[at].IndexOf(": ", StringComparison.Ordinal);
                    lines[at] = colon < 0 ? lines[at] + insert : lines[at][..(colon + 2)] + insert;
                    break;
                case 5:
                    lines[at] = lines[at].Insert(random.Next(lines[at].Length + 1), insert);
                    break;
                default:
                    lines[at] = lines[at][..random.Next(lines[at].Length + 1)];
                    break;
            }
        }

        return string.Join('\n', lines);
    }

    /// <summary>Lines as YAML counts them: it also breaks lines at a lone CR, NEL, LS and PS.</summary>
    public static int LineCount(string text) => LineBreak().Count(text) + 1;

    [System.Text.RegularExpressions.GeneratedRegex("\r\n|[\r\n\u0085\u2028\u2029]")]
    private static partial System.Text.RegularExpressions.Regex LineBreak();
}
