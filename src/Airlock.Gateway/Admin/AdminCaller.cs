using Airlock.Gateway.Identity;

namespace Airlock.Gateway.Admin;

/// <summary>The authenticated person behind an admin API request, with their roles.</summary>
public sealed record AdminCaller(CallerIdentity Identity, AdminRoles Roles)
{
    public bool Has(AdminRoles any) => (Roles & any) != 0;
}
