using System.Collections.Immutable;
using System.Text;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Tests.Policy;

internal static class PolicyFixture
{
    public static CompiledPolicy Compile(string yaml)
    {
        var result = PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), "/etc/airlock/policy.yaml");
        Assert.True(result.Succeeded, "policy failed to load:\n" + string.Join("\n", result.Errors));
        return result.Policy!;
    }

    public static RequestFacts Request(string method, string path, string? query = null, string subject = "key:agent",
        string[]? groups = null, string? keyName = "agent", string? body = null, Dictionary<string, string[]>? headers = null)
    {
        var headerDictionary = new HeaderDictionary();
        foreach (var (name, values) in headers ?? [])
        {
            headerDictionary[name] = values;
        }

        var identity = new CallerIdentity(subject, keyName is null ? "oidc" : "apikey", keyName is null ? "corp" : "airlock", keyName, null,
            (groups ?? ["agents"]).ToImmutableArray());
        var connection = path.Split('/')[1];
        return new RequestFacts(identity, connection, method, path, query, headerDictionary)
        {
            Body = body is null ? null : InspectedBody.Read(Encoding.UTF8.GetBytes(body), ((IHeaderDictionary)headerDictionary).ContentType),
        };
    }

    /// <summary>Decides, reading the body when the policy asks for it.</summary>
    public static PolicyDecision Decide(CompiledPolicy policy, RequestFacts facts)
    {
        var decision = policy.Decide(facts);
        if (decision.NeedsBody)
        {
            facts.Body ??= InspectedBody.Empty;
            decision = policy.Decide(facts);
        }

        return decision;
    }
}
