using System.Globalization;

namespace Airlock.Gateway.Console;

/// <summary>Times as the console writes them: relative for reading ("3 min ago"), exact (ISO
/// 8601, UTC) in the <c>datetime</c> attribute for the script that keeps them current.</summary>
internal static class ConsoleTime
{
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Exact(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Span(TimeSpan span)
    {
        span = span.Duration();
        return span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds} s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours} h {span.Minutes} min"
            : $"{(int)span.TotalDays} d";
    }

    public static string Ago(DateTimeOffset then, DateTimeOffset now) => Span(now - then) + " ago";

    public static string Until(DateTimeOffset then, DateTimeOffset now) => then <= now ? "now" : "in " + Span(then - now);

    public static string Minutes(int minutes) => minutes % 60 == 0 ? $"{minutes / 60} h" : $"{minutes} min";
}
