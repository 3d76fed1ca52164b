using System.Text;

namespace Airlock.Cli.Commands;

/// <summary>
/// Makes stored text safe for a terminal. Subjects, paths and names come from callers; an
/// escape sequence in one must not reach the operator's terminal as a command.
/// </summary>
internal static class Printable
{
    public static string Text(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        if (!value.AsSpan().ContainsAny(ControlCharacters))
        {
            return value;
        }

        var safe = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                safe.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                safe.Append(c);
            }
        }

        return safe.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> ControlCharacters =
        System.Buffers.SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(i => (char)i), (char)0x7F, .. Enumerable.Range(0x80, 0x20).Select(i => (char)i)]);
}
