using System.Collections.Immutable;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// Who may use the admin API, by the groups in their OIDC access tokens. Admins may do
/// everything; auditors may read everything and change nothing. Approvers are named per review
/// rule in the policy.
/// </summary>
internal sealed record AdminConfig(ImmutableArray<string> AdminGroups, ImmutableArray<string> AuditorGroups)
{
    public static AdminConfig Nobody { get; } = new([], []);

    /// <summary>How <c>airlock login</c> signs people in (<c>admin.login</c>); null: not offered.</summary>
    public AdminLoginConfig? Login { get; init; }
}
