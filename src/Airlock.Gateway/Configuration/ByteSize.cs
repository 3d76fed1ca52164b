using System.Globalization;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// Sizes in configuration: a number of bytes, or a number and a binary unit: <c>512KiB</c>,
/// <c>1MiB</c>, <c>2GiB</c>. Decimal units (<c>MB</c>) are refused: they are ambiguous in the wild.
/// </summary>
internal static class ByteSize
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        long multiplier = 1;
        foreach (var (suffix, factor) in new (string, long)[] { ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("B", 1) })
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = factor;
                s = s[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > long.MaxValue / multiplier)
        {
            return false;
        }

        bytes = number * multiplier;
        return true;
    }

    public static string Format(long bytes) =>
        bytes % (1L << 30) == 0 && bytes > 0 ? $"{bytes >> 30}GiB"
        : bytes % (1L << 20) == 0 && bytes > 0 ? $"{bytes >> 20}MiB"
        : bytes % (1L << 10) == 0 && bytes > 0 ? $"{bytes >> 10}KiB"
        : $"{bytes}B";
}
