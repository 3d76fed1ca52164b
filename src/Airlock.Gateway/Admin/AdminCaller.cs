using Airlock.Gateway.Configuration;
using Airlock.Gateway.Identity;

namespace Airlock.Gateway.Admin;

/// <summary>The authenticated person behind an admin API or console request, with their roles.</summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record AdminCaller(CallerIdentity Identity, AdminRoles Roles)
{
    public bool Has(AdminRoles any) => (Roles & any) != 0;

    /// <summary>
    /// The one way a person's roles are worked out, for a bearer token on <c>/api</c> and a
    /// console sign-in alike: <c>admin.adminGroups</c> make an admin, <c>admin.auditorGroups</c>
    /// an auditor. (Approvers need no role: a rule's approver groups let them decide its reviews.)
    /// </summary>
    internal static AdminCaller For(CallerIdentity identity, AdminConfig admin)
    {
        var roles = AdminRoles.None;
        if (identity.Groups.Any(admin.AdminGroups.Contains))
        {
            roles |= AdminRoles.Admin;
        }

        if (identity.Groups.Any(admin.AuditorGroups.Contains))
        {
            roles |= AdminRoles.Auditor;
        }

        return new AdminCaller(identity, roles);
    }
}
