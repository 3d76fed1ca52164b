using System.Collections.Frozen;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Request headers that carry a credential or claim an identity. The gateway never forwards
/// them: the upstream must see only the credential Airlock injects, and must never be told who
/// the caller is by something the caller wrote itself. The list follows what identity-aware
/// proxies and platforms set (oauth2-proxy, Pomerium, Cloudflare Access, AWS ALB, Azure App
/// Service, Google IAP, Kong, Apache mod_auth).
/// </summary>
public static class IdentityHeaders
{
    private static readonly FrozenSet<string> Names = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        "Authorization", "Proxy-Authorization", "Cookie", "Forwarded",
        "Remote-User", "Remote-Groups", "Remote-Email", "Remote-Name",
        "X-User", "X-User-Id", "X-User-Email", "X-User-Name", "X-Email", "X-Groups", "X-Roles",
        "X-Authenticated-User", "X-Authenticated-Userid", "X-Authenticated-Groups", "X-Authenticated-Scope",
        "X-Consumer-Id", "X-Consumer-Username", "X-Consumer-Custom-Id", "X-Credential-Identifier",
        "X-Client-Cert", "X-SSL-Client-Cert", "X-SSL-Client-Verify", "X-SSL-Client-DN", "X-Client-Verify", "X-ARR-ClientCert",
        "X-Webauth-User", "X-Original-User", "X-Impersonate-User", "Impersonate-User", "Impersonate-Group",
    ]);

    private static readonly string[] Prefixes =
    [
        "Airlock-", "X-Airlock-", "X-Forwarded-", "X-Auth-Request-", "X-Remote-", "X-Amzn-Oidc-",
        "X-Ms-Client-Principal", "X-Ms-Token-", "X-Goog-Authenticated-", "X-Goog-Iap-", "Cf-Access-", "X-Pomerium-",
    ];

    public static bool IsIdentityHeader(string name)
    {
        if (Names.Contains(name))
        {
            return true;
        }

        foreach (var prefix in Prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
