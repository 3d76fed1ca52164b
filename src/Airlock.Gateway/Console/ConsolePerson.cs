using System.Collections.Immutable;
using System.Globalization;
using System.Security.Claims;
using Airlock.Gateway.Identity;

namespace Airlock.Gateway.Console;

/// <summary>
/// A person signed in to the console, as their session cookie holds them: the same
/// <see cref="CallerIdentity"/> their access token gives on the admin API
/// (<c>&lt;issuer&gt;:&lt;sub&gt;</c>, the issuer's groups), a name to show, when they last
/// authenticated at the provider (<c>auth_time</c>) and when this sign-in happened.
/// </summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record ConsolePerson(CallerIdentity Identity, string Name, DateTimeOffset? AuthTime, DateTimeOffset SignedInAt)
{
    // The claims the session cookie carries: nothing else from the provider's tokens is kept.
    internal const string SubjectClaim = "sub";
    internal const string GroupClaim = "groups";
    internal const string NameClaim = "name";
    internal const string AuthTimeClaim = "auth_time";
    internal const string SignedInClaim = "airlock_signed_in";

    /// <summary>The compact principal the session cookie holds.</summary>
    public static ClaimsPrincipal Principal(string subject, IEnumerable<string> groups, string name, DateTimeOffset? authTime, DateTimeOffset signedInAt)
    {
        var claims = new List<Claim> { new(SubjectClaim, subject), new(NameClaim, name), new(SignedInClaim, Seconds(signedInAt)) };
        if (authTime is { } at)
        {
            claims.Add(new Claim(AuthTimeClaim, Seconds(at)));
        }

        claims.AddRange(groups.Distinct(StringComparer.Ordinal).Select(g => new Claim(GroupClaim, g)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, ConsoleSchemes.Cookie, NameClaim, GroupClaim));
    }

    /// <summary>The person a session cookie's principal names; null if it is not one the console wrote.</summary>
    public static ConsolePerson? From(ClaimsPrincipal principal, string issuerName)
    {
        var subject = principal.FindFirst(SubjectClaim)?.Value;
        var signedIn = Time(principal.FindFirst(SignedInClaim)?.Value);
        if (string.IsNullOrEmpty(subject) || signedIn is null)
        {
            return null;
        }

        var groups = principal.FindAll(GroupClaim).Select(c => c.Value).ToImmutableArray();
        var identity = new CallerIdentity(subject, CallerIdentity.OidcMethod, issuerName, null, null, groups);
        return new ConsolePerson(identity, principal.FindFirst(NameClaim)?.Value ?? subject, Time(principal.FindFirst(AuthTimeClaim)?.Value), signedIn.Value);
    }

    /// <summary>Whether the sign-in is recent enough to decide: <c>auth_time</c> no older than the
    /// age allowed. A provider that does not say when the person authenticated is never recent.</summary>
    public bool SignedInWithin(TimeSpan maxAge, DateTimeOffset now) => AuthTime is { } at && now - at <= maxAge;

    private static string Seconds(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    internal static DateTimeOffset? Time(string? seconds) =>
        long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s is > 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(s)
            : null;
}
