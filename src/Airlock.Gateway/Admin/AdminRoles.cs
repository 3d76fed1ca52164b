namespace Airlock.Gateway.Admin;

/// <summary>What a person may do on the admin API, from their groups.</summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
[Flags]
public enum AdminRoles
{
    None = 0,

    /// <summary>Reads everything, changes nothing.</summary>
    Auditor = 1,

    /// <summary>Does everything.</summary>
    Admin = 2,
}
