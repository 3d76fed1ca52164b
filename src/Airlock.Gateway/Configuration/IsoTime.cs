using System.Globalization;

namespace Airlock.Gateway.Configuration;

/// <summary>Times given by people (filters, export ranges): ISO 8601, a date or a date and time,
/// UTC unless the text says otherwise.</summary>
internal static class IsoTime
{
    public static bool TryParse(string? text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
