namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// A path glob, compiled once: <c>*</c> as a whole segment matches exactly one segment,
/// <c>**</c> matches any number of segments (none included), and <c>*</c> inside a segment
/// matches any characters within it (<c>*.json</c>). Patterns are written in the canonical
/// form requests are normalised to. A trailing slash is ignored on both sides, so
/// <c>/billing/admin</c> and <c>/billing/admin/</c> are one path to every rule.
/// </summary>
internal sealed class PathPattern
{
    private readonly string[] _segments;

    // Each segment as a case-insensitive upstream reads it (non-ASCII letters decoded from their
    // escapes, then case-folded), for deny and review rules; null where the segment holds no
    // non-ASCII escape, so that ASCII letters are compared without that work.
    private readonly string?[] _foldedSegments;

    public PathPattern(string pattern)
    {
        Text = pattern;
        _segments = Split(pattern.AsSpan()).ToArray();
        _foldedSegments = Array.ConvertAll(_segments, s => HasNonAsciiEscape(s) ? Fold(s) : null);
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
            else if (p < _segments.Length && SegmentMatches(p, body[path[s]], comparison))
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
    private bool SegmentMatches(int index, ReadOnlySpan<char> segment, StringComparison comparison)
    {
        var pattern = _segments[index];
        if (pattern == "*")
        {
            return !segment.IsEmpty;
        }

        // A non-ASCII letter reaches the gateway as escaped UTF-8 ('é' as %C3%A9, 'É' as %C3%89),
        // whose hex digits differ between the cases, while a case-insensitive upstream decodes
        // the path before it folds it: compare as that upstream does.
        if (comparison == StringComparison.OrdinalIgnoreCase &&
            (_foldedSegments[index] is not null || HasNonAsciiEscape(segment)))
        {
            return WildcardMatches(_foldedSegments[index] ?? Fold(pattern), Fold(segment.ToString()), StringComparison.Ordinal);
        }

        return WildcardMatches(pattern, segment, comparison);
    }

    private static bool WildcardMatches(string pattern, ReadOnlySpan<char> segment, StringComparison comparison)
    {
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

    /// <summary>Whether a canonical segment escapes a byte above 0x7F, part of a non-ASCII
    /// character (canonical paths keep those escaped, in upper-case hex).</summary>
    private static bool HasNonAsciiEscape(ReadOnlySpan<char> segment)
    {
        for (var i = segment.IndexOf('%'); i >= 0 && i + 2 < segment.Length; i = NextEscape(segment, i))
        {
            if (segment[i + 1] is >= '8' and <= '9' or >= 'A' and <= 'F' or >= 'a' and <= 'f')
            {
                return true;
            }
        }

        return false;

        static int NextEscape(ReadOnlySpan<char> segment, int from)
        {
            var next = segment[(from + 1)..].IndexOf('%');
            return next < 0 ? -1 : from + 1 + next;
        }
    }

    /// <summary>The segment with each run of escaped non-ASCII bytes decoded as UTF-8 (other
    /// escapes, such as %2F or %2A, stay as written so that they never become a separator or a
    /// wildcard), then case-folded as <see cref="KeyCase"/> folds names.</summary>
    private static string Fold(string segment)
    {
        var decoded = new System.Text.StringBuilder(segment.Length);
        var i = 0;
        while (i < segment.Length)
        {
            var run = i;
            while (run + 2 < segment.Length && segment[run] == '%' && Convert.FromHexString(segment.AsSpan(run + 1, 2))[0] >= 0x80)
            {
                run += 3;
            }

            if (run > i)
            {
                // Invalid UTF-8 stays escaped: UnescapeDataString leaves what it cannot decode.
                decoded.Append(Uri.UnescapeDataString(segment[i..run]));
                i = run;
            }
            else
            {
                decoded.Append(segment[i++]);
            }
        }

        return KeyCase.Fold(decoded.ToString());
    }

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
