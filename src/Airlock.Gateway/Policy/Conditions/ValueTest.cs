using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>A literal a value is compared with: a string, a number, true/false, or null.</summary>
internal readonly record struct Literal(JsonValueKind Kind, string Text, decimal? Number)
{
    public override string ToString() => Kind == JsonValueKind.String ? $"\"{Text}\"" : Text;
}

/// <summary>
/// The tests on one value (a query parameter, a header, a JSON field): <c>exists</c>,
/// <c>equals</c>, <c>in</c>, <c>matches</c>, <c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>.
/// All present tests must hold. A number written as a string (<c>"500"</c>) compares as the
/// number, because many upstreams coerce it.
/// </summary>
internal sealed class ValueTest
{
    public bool? Exists { get; init; }

    public ImmutableArray<Literal> OneOf { get; init; } = [];

    public Regex? Matches { get; init; }

    public decimal? Gt { get; init; }

    public decimal? Gte { get; init; }

    public decimal? Lt { get; init; }

    public decimal? Lte { get; init; }

    private bool HasValueTests => !OneOf.IsEmpty || Matches is not null || Gt is not null || Gte is not null || Lt is not null || Lte is not null;

    /// <summary>The verdict for an absent value.</summary>
    public Verdict Absent() => Exists == false ? Verdict.Yes : Verdict.No;

    /// <summary>Tests a text value (query parameter, header).</summary>
    public Verdict Test(string value, bool strict)
    {
        if (Exists == false)
        {
            return Verdict.No;
        }

        if (!OneOf.IsEmpty)
        {
            var any = false;
            foreach (var literal in OneOf)
            {
                if (literal.Number is { } n && TryNumber(value, out var v) ? n == v
                    : string.Equals(literal.Text, value, strict ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase))
                {
                    any = true;
                    break;
                }
            }

            if (!any)
            {
                return Verdict.No;
            }
        }

        if (Matches is not null && !Matches.IsMatch(value))
        {
            return Verdict.No;
        }

        return TestNumber(TryNumber(value, out var number) ? number : null);
    }

    /// <summary>Tests a JSON value.</summary>
    public Verdict Test(JsonElement value, bool strict)
    {
        if (Exists == false)
        {
            return Verdict.No;
        }

        if (!HasValueTests)
        {
            return Verdict.Yes;
        }

        if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            // Some deserialisers unwrap ["production"] to "production": a container compared
            // with a value has no single reading.
            return Verdict.Ambiguous;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Object or JsonValueKind.Array => null,
            _ => value.GetRawText(),
        };
        decimal? number = value.ValueKind == JsonValueKind.Number && FitsDecimal(text!) && value.TryGetDecimal(out var d) ? d
            : value.ValueKind == JsonValueKind.String && TryNumber(text!, out var s) ? s
            : null;

        if (!OneOf.IsEmpty)
        {
            var any = false;
            foreach (var literal in OneOf)
            {
                if (EqualsLiteral(value, text, number, literal, strict))
                {
                    any = true;
                    break;
                }
            }

            if (!any)
            {
                return Verdict.No;
            }
        }

        if (Matches is not null && (text is null || !Matches.IsMatch(text)))
        {
            return text is null ? Verdict.Ambiguous : Verdict.No;
        }

        if (value.ValueKind == JsonValueKind.Number && number is null && (Gt ?? Gte ?? Lt ?? Lte) is not null)
        {
            // Beyond decimal's range (1e400): a number, but not one this gateway can compare.
            return Verdict.Ambiguous;
        }

        return TestNumber(number);
    }

    private static bool EqualsLiteral(JsonElement value, string? text, decimal? number, Literal literal, bool strict)
    {
        if (literal.Number is { } n)
        {
            return number == n && (!strict || value.ValueKind == JsonValueKind.Number);
        }

        if (strict)
        {
            return literal.Kind switch
            {
                JsonValueKind.String => value.ValueKind == JsonValueKind.String && text == literal.Text,
                JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => value.ValueKind == literal.Kind,
                _ => false,
            };
        }

        return text is not null && string.Equals(text, literal.Text, StringComparison.OrdinalIgnoreCase);
    }

    private Verdict TestNumber(decimal? number)
    {
        if (Gt is null && Gte is null && Lt is null && Lte is null)
        {
            return Verdict.Yes;
        }

        if (number is not { } v)
        {
            return Verdict.Ambiguous;
        }

        return (Gt is null || v > Gt) && (Gte is null || v >= Gte) && (Lt is null || v < Lt) && (Lte is null || v <= Lte)
            ? Verdict.Yes
            : Verdict.No;
    }

    public static bool TryNumber(string text, out decimal value)
    {
        value = 0;
        return FitsDecimal(text)
            && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// True when the number has at most 28 significant digits, so <see cref="decimal"/> holds it
    /// exactly. 100.00000000000000000000000000001 would round to 100 and pass "lte: 100" while an
    /// upstream using arbitrary precision reads more than 100; such a number cannot be compared.
    /// </summary>
    private static bool FitsDecimal(string text)
    {
        var mantissa = text.AsSpan();
        var exponent = mantissa.IndexOfAny('e', 'E');
        if (exponent >= 0)
        {
            mantissa = mantissa[..exponent];
        }

        var digits = 0;
        var leading = true;
        var trailingZeros = 0;
        foreach (var c in mantissa)
        {
            if (!char.IsAsciiDigit(c))
            {
                continue;
            }

            if (leading && c == '0')
            {
                continue;
            }

            leading = false;
            digits++;
            trailingZeros = c == '0' ? trailingZeros + 1 : 0;
        }

        return digits - trailingZeros <= 28;
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Exists is { } e)
        {
            parts.Add(e ? "exists" : "is absent");
        }

        if (OneOf.Length == 1)
        {
            parts.Add($"equals {OneOf[0]}");
        }
        else if (!OneOf.IsEmpty)
        {
            parts.Add($"is one of {string.Join(", ", OneOf)}");
        }

        if (Matches is not null)
        {
            parts.Add($"matches /{Matches}/");
        }

        AddBound(parts, "> ", Gt);
        AddBound(parts, ">= ", Gte);
        AddBound(parts, "< ", Lt);
        AddBound(parts, "<= ", Lte);
        return string.Join(" and ", parts);
    }

    private static void AddBound(List<string> parts, string op, decimal? bound)
    {
        if (bound is { } b)
        {
            parts.Add(new StringBuilder(op).Append(b.ToString(CultureInfo.InvariantCulture)).ToString());
        }
    }
}
