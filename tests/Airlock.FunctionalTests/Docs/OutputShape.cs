using System.Text;
using System.Text.RegularExpressions;

namespace Airlock.FunctionalTests.Docs;

/// <summary>
/// Compares a command's output with the output a page shows for it, by shape: what must be the
/// same is, what differs from run to run may.
/// <list type="bullet">
/// <item>Whitespace is not compared: a page may wrap a long JSON line or align a table its own way.</item>
/// <item><c>...</c> stands for anything, lines included; <c>…</c> for anything on one line, and
/// after hex digits (<c>sha256:750c3eab…</c>, <c>01a20d55-…</c>) for the rest of an id or hash;
/// before 8 hex digits (<c>…2b75e03e</c>) it is an id shown by its end, the run's once that id is bound.</item>
/// <item>Times (ISO 8601 and HTTP dates), durations (numbers with a decimal point), counts of
/// events, curl's version may differ.</item>
/// <item>Ids (UUIDs, and API key ids after "id ") may differ, consistently: the first time the
/// page shows an id it is bound to the id the run printed there; after that, that id must come
/// back wherever the page shows it again, and commands that use it are sent the run's id.</item>
/// </list>
/// </summary>
internal sealed partial class OutputShape
{
    private readonly Dictionary<string, string> _bound = new(StringComparer.Ordinal);

    /// <summary>The page's ids and the run's, as bound so far.</summary>
    public IReadOnlyDictionary<string, string> Bound => _bound;

    /// <summary>The command as it is to be run: the page's ids replaced by the run's.</summary>
    public string Command(string command)
    {
        var unknown = new List<string>();
        var run = Id().Replace(command, m =>
        {
            if (_bound.TryGetValue(m.Value, out var actual))
            {
                return actual;
            }

            unknown.Add(m.Value);
            return m.Value;
        });
        return unknown.Count == 0 ? run
            : throw new InvalidOperationException($"the command uses {string.Join(", ", unknown)}, which no output before it showed: `{command}`");
    }

    /// <summary>
    /// Whether <paramref name="actual"/> has the shape of <paramref name="expected"/>; binds the
    /// ids seen for the first time when it does. Otherwise says where the two part.
    /// </summary>
    public bool Matches(string expected, string actual, out string difference)
    {
        var (tokens, groups) = Compile(expected);
        var match = Anchored(tokens.Select(t => t.Pattern), whole: true).Match(actual);
        if (match.Success)
        {
            return TryBind(groups, match, out difference);
        }

        difference = Explain(tokens, actual);
        return false;
    }

    /// <summary>
    /// After a mismatch, binds the page's new ids to the run's new ones in order of first
    /// appearance, so that later commands can still run and report their own differences.
    /// </summary>
    public void BindInOrder(string expected, string actual)
    {
        var fresh = Id().Matches(expected).Select(m => m.Value).Distinct().Where(id => !_bound.ContainsKey(id)).ToList();
        var taken = _bound.Values.ToHashSet(StringComparer.Ordinal);
        var seen = Id().Matches(actual).Select(m => m.Value).Distinct().Where(id => !taken.Contains(id)).ToList();
        foreach (var (page, run) in fresh.Zip(seen))
        {
            _bound[page] = run;
        }
    }

    private bool TryBind(List<(string Group, string PageId)> groups, Match match, out string difference)
    {
        var taken = _bound.ToDictionary(b => b.Value, b => b.Key, StringComparer.Ordinal);
        foreach (var (group, pageId) in groups)
        {
            var actual = match.Groups[group].Value;
            if (taken.TryGetValue(actual, out var other) && other != pageId)
            {
                difference = $"the output shows {actual} where the page shows {pageId}, but the page showed that id as {other} before";
                return false;
            }

            taken[actual] = pageId;
        }

        foreach (var (group, pageId) in groups)
        {
            _bound[pageId] = match.Groups[group].Value;
        }

        difference = "";
        return true;
    }

    /// <summary>The page's output as a list of regular expressions, each with the text it came from.</summary>
    private (List<(string Pattern, string Source)> Tokens, List<(string Group, string PageId)> Groups) Compile(string expected)
    {
        var tokens = new List<(string Pattern, string Source)>();
        var groups = new List<(string Group, string PageId)>();
        var position = 0;
        foreach (Match token in Token().Matches(expected))
        {
            if (token.Index > position)
            {
                tokens.Add((Regex.Escape(expected[position..token.Index]), expected[position..token.Index]));
            }

            tokens.Add((Pattern(token, groups), token.Value));
            position = token.Index + token.Length;
        }

        if (position < expected.Length)
        {
            tokens.Add((Regex.Escape(expected[position..]), expected[position..]));
        }

        return (tokens, groups);
    }

    private string Pattern(Match token, List<(string Group, string PageId)> groups)
    {
        if (token.Groups["space"].Success)
        {
            return @"\s*";
        }

        if (token.Groups["elided"].Success)
        {
            return @"[\s\S]*?";
        }

        if (token.Groups["id"].Success)
        {
            var pageId = token.Value;
            if (_bound.TryGetValue(pageId, out var actual))
            {
                return Regex.Escape(actual);
            }

            var earlier = groups.FindIndex(g => g.PageId == pageId);
            if (earlier >= 0)
            {
                return $@"\k<{groups[earlier].Group}>";
            }

            var name = "id" + groups.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            groups.Add((name, pageId));
            return $"(?<{name}>{(pageId.Length == 16 ? "[0-9a-f]{16}" : UuidPattern)})";
        }

        if (token.Groups["tail"].Success)
        {
            // An id shown by its last 8 hex digits (sessions list): the run's id's, once bound.
            var bound = _bound.FirstOrDefault(b => b.Key.EndsWith(token.Value[1..], StringComparison.Ordinal)).Value;
            return bound is null ? "…[0-9a-f]{8}" : Regex.Escape("…" + bound[^8..]);
        }

        return token.Groups["abbreviated"].Success ? "[0-9a-f-]*"
            : token.Groups["ellipsis"].Success ? "[^\n]*?"
            : token.Groups["time"].Success ? TimePattern
            : token.Groups["date"].Success ? DatePattern
            : token.Groups["curl"].Success ? @"curl/[0-9.]+"
            : token.Groups["range"].Success ? @"\d+\.\.\d+"
            : token.Groups["count"].Success ? @"\d[\d,]*"
            : @"\d+\.\d+";
    }

    private static Regex Anchored(IEnumerable<string> tokens, bool whole) =>
        new(@"\A\s*" + string.Concat(tokens) + (whole ? @"\s*\z" : ""), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));

    /// <summary>The longest start of the page's output that the run's output matches, and what follows on each side.</summary>
    private static string Explain(List<(string Pattern, string Source)> tokens, string actual)
    {
        var matched = 0;
        var end = 0;
        for (var count = 1; count <= tokens.Count; count++)
        {
            var prefix = Anchored(tokens.Take(count).Select(t => t.Pattern), whole: false).Match(actual);
            if (!prefix.Success)
            {
                break;
            }

            (matched, end) = (count, prefix.Length);
        }

        var text = new StringBuilder();
        text.Append("expected next: ").Append(Excerpt(string.Concat(tokens.Skip(matched).Take(24).Select(t => t.Source))));
        text.Append("\n  got instead: ").Append(Excerpt(actual[end..]));
        return text.ToString();
    }

    private static string Excerpt(string text)
    {
        var trimmed = text.TrimStart();
        return (trimmed.Length > 160 ? trimmed[..160] + "…" : trimmed).Replace("\n", "⏎", StringComparison.Ordinal);
    }

    private const string UuidPattern = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private const string TimePattern = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)";
    private const string DatePattern = @"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT";

    [GeneratedRegex($@"(?<elided>\.\.\.)|(?<abbreviated>[0-9a-f][0-9a-f-]{{3,}}…)|(?<tail>…[0-9a-f]{{8}}\b)|(?<ellipsis>…)|(?<time>{TimePattern})|(?<date>{DatePattern})"
        + $@"|(?<id>{UuidPattern}|(?<=\bid )[0-9a-f]{{16}}\b)|(?<curl>curl/[0-9.]+)|(?<range>\d+\.\.\d+)"
        + @"|(?<count>\d[\d,]*(?= events?\b)|(?<=\bevent )\d+)|(?<number>\d+\.\d+)|(?<space>\s+)")]
    private static partial Regex Token();

    [GeneratedRegex($@"{UuidPattern}|(?<=\bid )[0-9a-f]{{16}}\b")]
    private static partial Regex Id();
}
