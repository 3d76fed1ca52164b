using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

public class AdminLoginConfigTests
{
    private const string Base = """
        listeners: { proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 }
        store: { sqlite: ./airlock.db }
        identity:
          oidc:
            - { name: corp, issuer: "https://login.example.com/", audience: urn:airlock }
        connections:
          billing: { upstream: http://127.0.0.1:9000, credential: { type: none } }
        policy: { file: ./policy.yaml }

        """;

    private static ConfigLoadResult Load(string admin) => ConfigLoader.Load(Base + admin, "/etc/airlock/airlock.yaml", _ => null);

    [Fact]
    public void Without_admin_login_the_cli_sign_in_is_not_offered()
    {
        var result = Load("admin: { adminGroups: [ops] }\n");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Null(result.Config!.Admin.Login);
    }

    [Fact]
    public void Admin_login_names_an_issuer_by_name_and_publishes_its_url()
    {
        var result = Load("admin:\n  login: { issuer: corp, clientId: airlock-cli }\n");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var login = result.Config!.Admin.Login!;
        Assert.Equal("corp", login.IssuerName);
        Assert.Equal("https://login.example.com/", login.Issuer);
        Assert.Equal("airlock-cli", login.ClientId);
        Assert.Equal(["openid", "offline_access"], login.Scopes.ToArray());
        Assert.Null(login.Resource);

        var full = Load("admin:\n  login: { issuer: corp, clientId: cli, scopes: [openid, offline_access, api], resource: urn:airlock }\n").Config!.Admin.Login!;
        Assert.Equal(["openid", "offline_access", "api"], full.Scopes.ToArray());
        Assert.Equal("urn:airlock", full.Resource);
    }

    [Theory]
    [InlineData("{ issuer: other, clientId: cli }", "admin.login.issuer", "'other' is not an issuer under identity.oidc (known: corp)")]
    [InlineData("{ clientId: cli }", "admin.login.issuer", "is required")]
    [InlineData("{ issuer: corp }", "admin.login.clientId", "is required")]
    [InlineData("{ issuer: corp, clientId: \"\" }", "admin.login.clientId", "must not be empty")]
    [InlineData("{ issuer: corp, clientId: cli, scopes: [\"open id\"] }", "admin.login.scopes", "'open id' is not a scope")]
    [InlineData("{ issuer: corp, clientId: cli, resource: /relative }", "admin.login.resource", "must be an absolute URI")]
    [InlineData("{ issuer: corp, clientId: cli, resource: \"https://a.example/#x\" }", "admin.login.resource", "without a fragment")]
    [InlineData("{ issuer: corp, clientId: cli, secret: x }", "admin.login", "unknown key")]
    public void A_wrong_setting_is_an_error_with_its_line(string login, string path, string message)
    {
        var result = Load($"admin:\n  login: {login}\n");
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(path, error.Path, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(10, error.Line);
    }
}
