using System.Text;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// Whether two names are the same to a case-insensitive reader. Frameworks fold case in
/// different ways (Java folds the Kelvin sign 'K' to 'k', .NET's ordinal comparison does not;
/// Java's <c>equalsIgnoreCase</c> and Apache's <c>CaseInsensitiveMap</c> fold each character
/// to upper case and back, so that the long s 'ſ' is 's' and the dotless 'ı' is 'i', which
/// .NET's invariant casing leaves alone), so names are the same here if any of the common
/// foldings makes them equal.
/// </summary>
internal static class KeyCase
{
    public static bool Same(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // For ASCII names every folding agrees with the ordinal one; only others need the rest.
        if (System.Text.Ascii.IsValid(a) && System.Text.Ascii.IsValid(b))
        {
            return false;
        }

        return string.Equals(Fold(a), Fold(b), StringComparison.Ordinal);
    }

    /// <summary>
    /// Each character to upper case and back, as Java's <c>equalsIgnoreCase</c> compares them:
    /// equal for names that lower-casing makes equal (the Kelvin sign and 'k'), that upper-casing
    /// does, and that only the round trip does; with the three letters Java (and ICU) take to
    /// ASCII that .NET's invariant casing keeps.
    /// </summary>
    internal static string Fold(string name)
    {
        var folded = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            folded.Append(rune.Value switch
            {
                0x017F => new Rune('s'), // LATIN SMALL LETTER LONG S: upper case 'S'
                0x0131 => new Rune('i'), // LATIN SMALL LETTER DOTLESS I: upper case 'I'
                0x0130 => new Rune('i'), // LATIN CAPITAL LETTER I WITH DOT ABOVE: lower case 'i' (Character.toLowerCase)
                _ => Rune.ToLowerInvariant(Rune.ToUpperInvariant(rune)),
            });
        }

        return folded.ToString();
    }

    /// <summary>
    /// Adds a name to a set of names seen in one object (compared with
    /// <see cref="StringComparer.OrdinalIgnoreCase"/>); false when it collides with one already
    /// there under any folding.
    /// </summary>
    public static bool AddUnique(HashSet<string> seen, string name)
    {
        if (System.Text.Ascii.IsValid(name))
        {
            return seen.Add(name);
        }

        // Names the set's comparer finds equal fold alike, so the folded form stands for them all.
        return seen.Add(Fold(name));
    }
}
