using System.Globalization;
using System.Text;

namespace Airlock.Gateway.Console;

/// <summary>
/// Splits text an agent wrote into what can be shown as it is and what must be shown as a
/// code: control characters, and the invisible format characters that change how the rest
/// reads (Unicode bidi overrides and isolates, which can make <c>/refunds/‮001$</c> look like
/// another path or amount, zero-width characters, line separators). The page shows those as
/// <c>[U+202E]</c>, so an approver sees every character that will be sent, and nothing reorders
/// what surrounds it. HTML encoding is Razor's; this is about what encoding cannot show.
/// </summary>
internal static class VisibleText
{
    public readonly record struct Part(string Text, bool IsCode);

    public static IReadOnlyList<Part> Split(string? text, bool keepLineBreaks = false)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var parts = new List<Part>();
        var run = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                // A pair is one character; only its category decides.
                var category = CharUnicodeInfo.GetUnicodeCategory(text, i);
                if (category == UnicodeCategory.Format)
                {
                    Flush(parts, run);
                    parts.Add(new Part($"[U+{char.ConvertToUtf32(c, text[i + 1]):X}]", true));
                }
                else
                {
                    run.Append(c).Append(text[i + 1]);
                }

                i++;
                continue;
            }

            if (IsShownAsCode(c, keepLineBreaks))
            {
                Flush(parts, run);
                parts.Add(new Part($"[U+{(int)c:X4}]", true));
            }
            else
            {
                run.Append(c);
            }
        }

        Flush(parts, run);
        return parts;
    }

    /// <summary>Whether the text holds anything shown as a code (the page says so next to it).</summary>
    public static bool HasCodes(string? text, bool keepLineBreaks = false) =>
        text is not null && Split(text, keepLineBreaks).Any(p => p.IsCode);

    private static bool IsShownAsCode(char c, bool keepLineBreaks)
    {
        if (keepLineBreaks && c is '\n' or '\t')
        {
            return false;
        }

        if (char.IsSurrogate(c))
        {
            return true; // unpaired: not a character at all
        }

        var category = CharUnicodeInfo.GetUnicodeCategory(c);
        return category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse;
    }

    private static void Flush(List<Part> parts, StringBuilder run)
    {
        if (run.Length > 0)
        {
            parts.Add(new Part(run.ToString(), false));
            run.Clear();
        }
    }
}
