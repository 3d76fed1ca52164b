using Airlock.Gateway.Admin;

namespace Airlock.Gateway.Console;

/// <summary>What every console page needs around its content: who is signed in and with which
/// roles, the antiforgery token for its forms (sign-out included), the asset addresses, and the
/// time the page was rendered at (ages and countdowns start from it).</summary>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record ConsoleFrame(ConsolePerson? Person, AdminCaller? Caller, string? CsrfToken, string Stylesheet, string Script, DateTimeOffset Now)
{
    public const string CsrfField = "__RequestVerificationToken";
}

/// <summary>
/// The console's navigation: one entry per page, shown to the roles it is for. Pages for
/// auditors (sessions, audit, grants) add their entry here.
/// </summary>
internal static class ConsoleNavigation
{
    /// <param name="Roles">Who sees the entry: <see cref="AdminRoles.None"/> for everyone signed in.</param>
    public sealed record Entry(string Key, string Path, string Label, AdminRoles Roles);

    public static readonly IReadOnlyList<Entry> Entries =
    [
        new("inbox", "/", "Inbox", AdminRoles.None),
        new("grants", "/grants", "Grants", AdminRoles.None),
        new("sessions", "/sessions", "Sessions", AdminRoles.Admin | AdminRoles.Auditor),
        new("audit", "/audit", "Audit", AdminRoles.Admin | AdminRoles.Auditor),
    ];

    public static IEnumerable<Entry> For(AdminCaller? caller) =>
        Entries.Where(e => e.Roles == AdminRoles.None || caller?.Has(e.Roles) == true);
}
