using System.Text;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>Writes a gateway configuration file for a test, in the documented YAML format.</summary>
public sealed class GatewayConfig
{
    public const string UpstreamToken = "upstream-secret-token-9f8e7d";

    public string Store { get; set; } = "sqlite: ./airlock.db";

    /// <summary>The policy file's content. By default everything authenticated is allowed, so
    /// tests of other features are not about policy.</summary>
    public string Policy { get; set; } = "rules:\n  - { name: allow-everything, action: allow }\n";

    /// <summary>Extra lines under the configuration's <c>policy:</c> section.</summary>
    public string PolicySettings { get; set; } = "";

    /// <summary>Lines of the configuration's <c>admin:</c> section, if any.</summary>
    public string? Admin { get; set; }

    /// <summary>Lines of the configuration's <c>reviews:</c> section, if any.</summary>
    public string? Reviews { get; set; }

    /// <summary>Further top-level sections, as YAML, appended as they are.</summary>
    public string? TopLevel { get; set; }

    /// <summary>Lines of the configuration's <c>audit:</c> section, if any.</summary>
    public string? Audit { get; set; }

    public bool ApiKeys { get; set; } = true;

    /// <summary>Where the admin listener binds; a free port by default.</summary>
    public string AdminListen { get; set; } = "127.0.0.1:0";

    public List<string> Issuers { get; } = [];

    public List<(string Name, Uri Upstream, string Extra)> Connections { get; } = [];

    /// <summary>Environment the configuration's secret references resolve against.</summary>
    public Dictionary<string, string> Environment { get; } = new() { ["UPSTREAM_TOKEN"] = UpstreamToken };

    public GatewayConfig Connection(string name, Uri upstream, string extra = "") 
    {
        Connections.Add((name, upstream, extra));
        return this;
    }

    public GatewayConfig TrustIssuer(string issuer, string name = "corp", string groupsClaim = "groups")
    {
        Issuers.Add($"""
                - name: {name}
                  issuer: {issuer}
                  audience: {OidcProvider.Audience}
                  groupsClaim: {groupsClaim}
                  allowHttp: true
            """);
        return this;
    }

    public GatewayConfig Postgres(string connectionString)
    {
        Environment["AIRLOCK_TEST_PG"] = connectionString;
        Store = "postgres: { env: AIRLOCK_TEST_PG }";
        return this;
    }

    public string ToYaml()
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("listeners:\n  proxy: 127.0.0.1:0\n  admin: " + AdminListen);
        yaml.AppendLine("store:\n  " + Store);
        yaml.AppendLine("identity:\n  apiKeys: " + (ApiKeys ? "true" : "false"));
        if (Issuers.Count > 0)
        {
            yaml.AppendLine("  oidc:");
            foreach (var issuer in Issuers)
            {
                yaml.AppendLine(issuer);
            }
        }

        yaml.AppendLine("connections:");
        foreach (var (name, upstream, extra) in Connections)
        {
            yaml.AppendLine($"  {name}:");
            yaml.AppendLine($"    upstream: {upstream}");
            if (!extra.Contains("credential:", StringComparison.Ordinal))
            {
                yaml.AppendLine("    credential: { type: bearer, secret: { env: UPSTREAM_TOKEN } }");
            }

            if (extra.Length > 0)
            {
                yaml.AppendLine(extra);
            }
        }

        yaml.AppendLine("policy:\n  file: ./policy.yaml");
        if (PolicySettings.Length > 0)
        {
            yaml.AppendLine(PolicySettings);
        }

        if (Admin is not null)
        {
            yaml.AppendLine("admin:\n" + Admin);
        }

        if (Reviews is not null)
        {
            yaml.AppendLine("reviews:\n" + Reviews);
        }

        if (Audit is not null)
        {
            yaml.AppendLine("audit:\n" + Audit);
        }

        if (TopLevel is not null)
        {
            yaml.AppendLine(TopLevel);
        }

        return yaml.ToString();
    }
}
