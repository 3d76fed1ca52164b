using System.Text.Json;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// A path to fields of a JSON body: <c>$.refund.amount</c>, <c>$.items[0].sku</c>,
/// <c>$.items[*].sku</c> (every element), <c>$['odd key']</c>. Compiled once.
/// </summary>
internal sealed class JsonFieldPath
{
    private readonly Step[] _steps;

    private JsonFieldPath(string text, Step[] steps)
    {
        Text = text;
        _steps = steps;
    }

    public string Text { get; }

    public override string ToString() => Text;

    private readonly record struct Step(string? Property, int Index, bool Wildcard);

    public static bool TryParse(string text, out JsonFieldPath path, out string error)
    {
        path = null!;
        error = "";
        if (!text.StartsWith('$'))
        {
            error = "a body field path starts with '$', e.g. $.refund.amount";
            return false;
        }

        var steps = new List<Step>();
        var i = 1;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var start = ++i;
                while (i < text.Length && text[i] != '.' && text[i] != '[')
                {
                    i++;
                }

                if (i == start)
                {
                    error = $"empty field name at position {start}";
                    return false;
                }

                steps.Add(new Step(text[start..i], -1, false));
            }
            else if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0)
                {
                    error = $"'[' at position {i} is not closed";
                    return false;
                }

                var inner = text[(i + 1)..close];
                if (inner == "*")
                {
                    steps.Add(new Step(null, -1, true));
                }
                else if (inner.Length >= 2 && inner[0] == '\'' && inner[^1] == '\'')
                {
                    steps.Add(new Step(inner[1..^1], -1, false));
                }
                else if (int.TryParse(inner, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
                {
                    steps.Add(new Step(null, index, false));
                }
                else
                {
                    error = $"'[{inner}]' is not an index, [*] or ['name']";
                    return false;
                }

                i = close + 1;
            }
            else
            {
                error = $"unexpected '{text[i]}' at position {i}; write $.field, [0], [*] or ['name']";
                return false;
            }
        }

        if (steps.Count == 0)
        {
            error = "the path names no field";
            return false;
        }

        path = new JsonFieldPath(text, [.. steps]);
        return true;
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for each value the path reaches. Returns how many it
    /// reached, and whether the path itself has two readings: for allow rules (exact names), a
    /// key that matches only without case, which case-insensitive deserialisers would read; for
    /// any rule, an object where an array is expected or the other way round. Deny and review
    /// rules compare names without case, so the other spelling is simply reached.
    /// </summary>
    public (int Reached, bool Ambiguous) Visit(JsonElement root, bool strict, Func<JsonElement, bool> visit)
    {
        var count = 0;
        var ambiguous = false;
        Walk(root, 0, strict, visit, ref count, ref ambiguous);
        return (count, ambiguous);
    }

    private bool Walk(JsonElement element, int step, bool strict, Func<JsonElement, bool> visit, ref int count, ref bool ambiguous)
    {
        if (step == _steps.Length)
        {
            count++;
            return visit(element);
        }

        var s = _steps[step];
        if (s.Property is { } name)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                ambiguous |= element.ValueKind == JsonValueKind.Array;
                return true;
            }

            // A body with two keys folding alike never gets here (it is opaque), so an exact
            // match is the only key of its spelling; other spellings are looked for only on a miss.
            if (element.TryGetProperty(name, out var exact))
            {
                return Walk(exact, step + 1, strict, visit, ref count, ref ambiguous);
            }

            foreach (var property in element.EnumerateObject())
            {
                if (!KeyCase.Same(property.Name, name))
                {
                    continue;
                }

                if (strict)
                {
                    ambiguous = true;
                    return true;
                }

                return Walk(property.Value, step + 1, strict, visit, ref count, ref ambiguous);
            }

            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            ambiguous |= element.ValueKind == JsonValueKind.Object;
            return true;
        }

        if (!s.Wildcard)
        {
            return s.Index >= element.GetArrayLength() || Walk(element[s.Index], step + 1, strict, visit, ref count, ref ambiguous);
        }

        foreach (var item in element.EnumerateArray())
        {
            if (!Walk(item, step + 1, strict, visit, ref count, ref ambiguous))
            {
                return false;
            }
        }

        return true;
    }
}
