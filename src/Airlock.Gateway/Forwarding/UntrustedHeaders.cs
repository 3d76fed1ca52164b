using System.Collections.Frozen;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Request headers the caller may never pass upstream, because the upstream would trust them:
/// <list type="bullet">
/// <item>credentials (<c>Authorization</c>, <c>Cookie</c>…): the upstream sees only the one the
/// gateway injects;</item>
/// <item>identity claims set by identity-aware proxies and platforms (oauth2-proxy, Pomerium,
/// Cloudflare Access, AWS ALB, Azure App Service, Google IAP, Kong, Apache): only the gateway
/// says who the caller is;</item>
/// <item>client-address claims (<c>X-Real-IP</c>, <c>True-Client-IP</c>…): the gateway sets
/// <c>X-Forwarded-For</c> itself;</item>
/// <item>request rewrites (<c>X-HTTP-Method-Override</c>, <c>X-Original-URL</c>…): frameworks
/// act on them, so the upstream would run a different method or path than the one checked.</item>
/// </list>
/// </summary>
internal static class UntrustedHeaders
{
    private static readonly FrozenSet<string> Names = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        // Credentials.
        "Authorization", "Proxy-Authorization", "Cookie",
        // Identity claims.
        "Forwarded", "Remote-User", "Remote-Groups", "Remote-Email", "Remote-Name",
        "X-User", "X-User-Id", "X-User-Email", "X-User-Name", "X-Email", "X-Groups", "X-Roles",
        "X-Authenticated-User", "X-Authenticated-Userid", "X-Authenticated-Groups", "X-Authenticated-Scope",
        "X-Consumer-Id", "X-Consumer-Username", "X-Consumer-Custom-Id", "X-Credential-Identifier",
        "X-Client-Cert", "X-SSL-Client-Cert", "X-SSL-Client-Verify", "X-SSL-Client-DN", "X-Client-Verify", "X-ARR-ClientCert",
        "X-Webauth-User", "X-Original-User", "X-Impersonate-User", "Impersonate-User", "Impersonate-Group",
        // Client-address claims.
        "X-Real-IP", "True-Client-IP", "X-Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
        "X-Original-Forwarded-For", "X-ProxyUser-Ip",
        // Request rewrites.
        "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-Method",
        "X-Original-URL", "X-Rewrite-URL", "X-Original-URI",
    ]);

    private static readonly string[] Prefixes =
    [
        "Airlock-", "X-Airlock-", "X-Forwarded-", "X-Auth-Request-", "X-Remote-", "X-Amzn-Oidc-",
        "X-Ms-Client-Principal", "X-Ms-Token-", "X-Goog-Authenticated-", "X-Goog-Iap-", "Cf-Access-", "X-Pomerium-",
    ];

    public static bool IsUntrusted(string name)
    {
        // CGI-style upstreams read '_' as '-' (X_Remote_User is HTTP_X_REMOTE_USER); such names
        // are dropped before they get here, and compared alike in case one is not.
        if (name.Contains('_', StringComparison.Ordinal))
        {
            name = name.Replace('_', '-');
        }

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
