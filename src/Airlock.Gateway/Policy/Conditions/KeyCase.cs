namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// Whether two names are the same to a case-insensitive reader. Frameworks fold case in
/// different ways (Java folds the Kelvin sign 'K' to 'k', .NET's ordinal comparison does not),
/// so names are the same here if any of the common foldings makes them equal.
/// </summary>
public static class KeyCase
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

        return string.Equals(a.ToLowerInvariant(), b.ToLowerInvariant(), StringComparison.Ordinal)
            || string.Equals(a.ToUpperInvariant(), b.ToUpperInvariant(), StringComparison.Ordinal);
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

        var lower = name.ToLowerInvariant();
        var upper = name.ToUpperInvariant();
        if (seen.Contains(name) || seen.Contains(lower) || seen.Contains(upper))
        {
            return false;
        }

        seen.Add(name);
        seen.Add(lower);
        seen.Add(upper);
        return true;
    }
}
