using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Reads RFC 7240 preferences a client may send with a request that could be held:
/// <c>Prefer: wait=10</c> shortens the hold to 10 seconds; <c>Prefer: respond-async</c> asks
/// for the 202 at once. A preference can only shorten the rule's hold, never lengthen it.
/// </summary>
internal static class PreferWait
{
    public static TimeSpan Hold(HttpRequest request, TimeSpan ruleHold, out string? applied)
    {
        applied = null;
        var hold = ruleHold;
        foreach (var header in request.Headers["Prefer"])
        {
            foreach (var part in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var token = part.Split(';', 2)[0].Trim();
                if (token.Equals("respond-async", StringComparison.OrdinalIgnoreCase))
                {
                    hold = TimeSpan.Zero;
                    applied = "respond-async";
                }
                else if (token.StartsWith("wait=", StringComparison.OrdinalIgnoreCase)
                         && int.TryParse(token.AsSpan(5).Trim('"'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                         && TimeSpan.FromSeconds(seconds) < hold)
                {
                    hold = TimeSpan.FromSeconds(seconds);
                    applied = $"wait={seconds}";
                }
            }
        }

        return hold;
    }
}
