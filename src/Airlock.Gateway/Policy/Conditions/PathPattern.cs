namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// A path glob, compiled once: <c>*</c> as a whole segment matches exactly one segment,
/// <c>**</c> matches any number of segments (none included), and <c>*</c> inside a segment
/// matches any characters within it (<c>*.json</c>). Patterns are written in the canonical
/// form requests are normalised to. A trailing slash is ignored on both sides, so
/// <c>/billing/admin</c> and <c>/billing/admin/</c> are one path to every rule.
/// </summary>
public sealed class PathPattern
{
    private readonly string[] _segments;

    public PathPattern(string pattern)
    {
        Text = pattern;
        _segments = Split(pattern.AsSpan()).ToArray();
    }

    public string Text { get; }

    public IReadOnlyList<string> Segments => _segments;

    public override string ToString() => Text;

    /// <param name="ignoreCase">Deny and review rules compare letters without case, so that
    /// <c>/Admin</c> cannot slip past a rule an upstream would apply to <c>/admin</c>.</param>
    public bool Matches(string path, bool ignoreCase)
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        // Segments of the path without its leading and trailing slashes.
        var body = path.AsSpan().TrimEnd('/');
        body = body.IsEmpty ? body : body[1..];
        var maxSegments = (body.Length / 2) + 1;
        Range[]? rented = null;
        var ranges = maxSegments <= 32 ? stackalloc Range[32] : (rented = System.Buffers.ArrayPool<Range>.Shared.Rent(maxSegments));
        try
        {
            var count = body.IsEmpty ? 0 : body.Split(ranges, '/');
            return MatchSegments(body, ranges[..count], comparison);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<Range>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Wildcard matching at the level of segments, '**' being the star, with one
    /// backtrack point: linear in practice, never exponential.</summary>
    private bool MatchSegments(ReadOnlySpan<char> body, ReadOnlySpan<Range> path, StringComparison comparison)
    {
        int p = 0, s = 0, starP = -1, starS = -1;
        while (s < path.Length)
        {
            if (p < _segments.Length && _segments[p] == "**")
            {
                starP = p++;
                starS = s;
            }
            else if (p < _segments.Length && SegmentMatches(_segments[p], body[path[s]], comparison))
            {
                p++;
                s++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                s = ++starS;
            }
            else
            {
                return false;
            }
        }

        while (p < _segments.Length && _segments[p] == "**")
        {
            p++;
        }

        return p == _segments.Length;
    }

    /// <summary>Matches one segment against one pattern segment with '*' wildcards.</summary>
    private static bool SegmentMatches(string pattern, ReadOnlySpan<char> segment, StringComparison comparison)
    {
        if (pattern == "*")
        {
            return !segment.IsEmpty;
        }

        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return segment.Equals(pattern, comparison);
        }

        // Classic wildcard matching with one backtrack point.
        int p = 0, s = 0, star = -1, mark = 0;
        while (s < segment.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = s;
            }
            else if (p < pattern.Length && CharEquals(pattern[p], segment[s], comparison))
            {
                p++;
                s++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                s = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool CharEquals(char a, char b, StringComparison comparison) =>
        a == b || (comparison == StringComparison.OrdinalIgnoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));

    private static List<string> Split(ReadOnlySpan<char> pattern)
    {
        var trimmed = pattern.TrimEnd('/');
        var segments = new List<string>();
        if (trimmed.IsEmpty)
        {
            return segments;
        }

        foreach (var range in trimmed[1..].Split('/'))
        {
            segments.Add(trimmed[1..][range].ToString());
        }

        return segments;
    }
}
