using System.Collections.Immutable;
using System.Globalization;

namespace Airlock.Gateway.Masking;

/// <summary>
/// A JSON field path in the subset of JSONPath (RFC 9535) that names fields: <c>$</c> then
/// <c>.name</c>, <c>['name']</c>, <c>.*</c>, <c>[*]</c>, <c>[3]</c>, and <c>..name</c> /
/// <c>..*</c> for any depth. Filters and slices are not supported: a masking rule names fields,
/// it does not query. Matching runs as a small automaton while the document streams past: each
/// open object or array keeps the set of steps matched so far, as bits.
/// </summary>
internal sealed class JsonPathPattern
{
    private enum StepKind
    {
        Name,
        AnyName,
        Index,
        AnyIndex,
    }

    private readonly record struct Step(StepKind Kind, string? Name, int Index, bool Descendant);

    private readonly ImmutableArray<Step> _steps;

    private JsonPathPattern(string text, ImmutableArray<Step> steps)
    {
        Text = text;
        _steps = steps;
        _match = 1UL << steps.Length;
        AnyIndexAlike = !steps.Any(s => s.Kind == StepKind.Index);
    }

    private readonly ulong _match;

    /// <summary>True when no step names a position (<c>[3]</c>), so every element of an array
    /// leads to the same state: the step into an array element can be remembered.</summary>
    public bool AnyIndexAlike { get; }

    public string Text { get; }

    /// <summary>The last field name the path steps through, wherever it is: <c>ssn</c> for
    /// <c>$.customers[*].ssn</c>, <c>secret</c> for <c>$.secret.*</c>; null for <c>$..*</c>.
    /// A request naming it asks about the masked field (<see cref="MaskedFieldQuery"/>).</summary>
    public string? FieldName => _steps.LastOrDefault(s => s.Kind == StepKind.Name).Name;

    /// <summary>The last name the path ends in, upper-cased (for labels), or null.</summary>
    public string? LastName => _steps.Length > 0 && _steps[^1].Kind == StepKind.Name ? _steps[^1].Name : null;

    /// <summary>The state at the document's root: nothing matched but the <c>$</c>.</summary>
    public const ulong Start = 1;

    /// <summary>True when the state says the current value is the one the path names.</summary>
    public bool IsMatch(ulong state) => (state & _match) != 0;

    /// <summary>The state inside a child of a value in <paramref name="state"/>: reached by the
    /// property <paramref name="name"/> (objects) or the position <paramref name="index"/> (arrays).</summary>
    public ulong Child(ulong state, ReadOnlySpan<char> name, int index)
    {
        ulong next = 0;
        for (var i = 0; i < _steps.Length && state != 0; i++, state >>= 1)
        {
            if ((state & 1) == 0)
            {
                continue;
            }

            var step = _steps[i];
            if (step.Descendant)
            {
                // `..` may skip any number of levels: stay on this step at every depth.
                next |= 1UL << i;
            }

            var matches = step.Kind switch
            {
                StepKind.Name => index < 0 && name.SequenceEqual(step.Name),
                StepKind.AnyName => index < 0,
                StepKind.Index => index == step.Index,
                _ => index >= 0,
            };
            if (matches)
            {
                next |= 1UL << (i + 1);
            }
        }

        return next;
    }

    public static bool TryParse(string text, out JsonPathPattern? pattern, out string? error)
    {
        pattern = null;
        error = null;
        if (!text.StartsWith('$'))
        {
            error = "a field path starts with $";
            return false;
        }

        var steps = ImmutableArray.CreateBuilder<Step>();
        var at = 1;
        while (at < text.Length)
        {
            var descendant = false;
            if (text.AsSpan(at).StartsWith(".."))
            {
                descendant = true;
                at += 2;
                if (at < text.Length && text[at] == '[')
                {
                    // ..[*] and ..['name'] read like the bracket forms below.
                }
                else
                {
                    if (!ReadName(text, ref at, out var name))
                    {
                        error = $"expected a name or * after '..' at position {at}";
                        return false;
                    }

                    steps.Add(name == "*" ? new Step(StepKind.AnyName, null, 0, true) : new Step(StepKind.Name, name, 0, true));
                    continue;
                }
            }

            if (text[at] == '.')
            {
                at++;
                if (!ReadName(text, ref at, out var name))
                {
                    error = $"expected a name or * after '.' at position {at}";
                    return false;
                }

                steps.Add(name == "*" ? new Step(StepKind.AnyName, null, 0, descendant) : new Step(StepKind.Name, name, 0, descendant));
            }
            else if (text[at] == '[')
            {
                var close = text.IndexOf(']', at);
                if (close < 0)
                {
                    error = $"'[' at position {at} is not closed";
                    return false;
                }

                var inside = text[(at + 1)..close].Trim();
                at = close + 1;
                if (inside == "*")
                {
                    steps.Add(new Step(StepKind.AnyIndex, null, 0, descendant));
                }
                else if (inside.Length >= 2 && inside[0] is '\'' or '"' && inside[^1] == inside[0])
                {
                    steps.Add(new Step(StepKind.Name, inside[1..^1], 0, descendant));
                }
                else if (int.TryParse(inside, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    steps.Add(new Step(StepKind.Index, null, index, descendant));
                }
                else
                {
                    error = $"'[{inside}]' is not supported: use [*], [n] or ['name'] (no filters or slices)";
                    return false;
                }
            }
            else
            {
                error = $"unexpected '{text[at]}' at position {at}";
                return false;
            }
        }

        if (steps.Count == 0)
        {
            error = "the path names the whole document; name a field";
            return false;
        }

        if (steps.Count > 62)
        {
            error = "the path is too long (at most 62 steps)";
            return false;
        }

        pattern = new JsonPathPattern(text, steps.ToImmutable());
        return true;
    }

    private static bool ReadName(string text, ref int at, out string name)
    {
        var start = at;
        if (at < text.Length && text[at] == '*')
        {
            at++;
            name = "*";
            return true;
        }

        while (at < text.Length && text[at] is not ('.' or '['))
        {
            at++;
        }

        name = text[start..at];
        return name.Length > 0;
    }
}
