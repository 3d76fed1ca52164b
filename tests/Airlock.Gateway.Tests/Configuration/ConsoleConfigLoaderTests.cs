using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

/// <summary>The <c>console:</c> section: read whole, every mistake on its line, secrets by reference.</summary>
public class ConsoleConfigLoaderTests
{
    private static readonly Dictionary<string, string> Env = new() { ["CONSOLE_SECRET"] = "console-client-secret-value" };

    private const string Base = """
        listeners:
          proxy: 127.0.0.1:8080
          admin: 127.0.0.1:8081
        store:
          sqlite: ./data/airlock.db
        identity:
          oidc:
            - name: corp
              issuer: https://login.example.com/
              audience: urn:airlock
        connections:
          billing:
            upstream: https://billing.example.com/
            credential: { type: none }
        policy:
          file: ./policy.yaml
        """;

    private static ConfigLoadResult Load(string console) =>
        ConfigLoader.Load(Base + "\nconsole:\n" + console, "/etc/airlock/airlock.yaml", name => Env.GetValueOrDefault(name));

    private const string Valid = """
          issuer: corp
          clientId: airlock-console
          clientSecret: { env: CONSOLE_SECRET }
          publicUrl: https://airlock.example.com
        """;

    [Fact]
    public void Without_the_section_the_console_is_off()
    {
        var result = ConfigLoader.Load(Base, "/etc/airlock/airlock.yaml", name => Env.GetValueOrDefault(name));

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Null(result.Config!.Console);
    }

    [Fact]
    public void A_valid_section_loads_with_its_defaults()
    {
        var result = Load(Valid);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var console = result.Config!.Console!;
        Assert.Equal("corp", console.Issuer.Name);
        Assert.Equal("airlock-console", console.ClientId);
        Assert.Equal("console-client-secret-value", console.ClientSecret.Reveal());
        Assert.Equal("secret(env:CONSOLE_SECRET)", console.ClientSecret.ToString());
        Assert.Equal(TimeSpan.FromHours(8), console.Session);
        Assert.Equal(TimeSpan.FromHours(12), console.ApprovalMaxAge);
        Assert.Equal(["openid", "profile"], console.Scopes.ToArray());
        Assert.True(console.IsHttps);
        var id = Guid.Parse("01a20d5e-6c1f-7f3a-9d2e-6b1e4f0a8c31");
        Assert.Equal("https://airlock.example.com/reviews/01a20d5e-6c1f-7f3a-9d2e-6b1e4f0a8c31", console.ReviewLink(id));
        Assert.DoesNotContain(result.Warnings, w => w.Path.StartsWith("console", StringComparison.Ordinal));
    }

    [Fact]
    public void Session_age_and_scopes_are_read()
    {
        var result = Load(Valid + "\n  session: 30m\n  approvalMaxAge: 1h\n  scopes: [openid, profile, groups]\n");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(TimeSpan.FromMinutes(30), result.Config!.Console!.Session);
        Assert.Equal(TimeSpan.FromHours(1), result.Config.Console.ApprovalMaxAge);
        Assert.Equal(["openid", "profile", "groups"], result.Config.Console.Scopes.ToArray());
    }

    [Theory]
    [InlineData("issuer: corp", "issuer: other", "console.issuer", 18, "'other' is not an issuer; name one of identity.oidc: corp")]
    [InlineData("clientSecret: { env: CONSOLE_SECRET }", "clientSecret: s3cr3t-inline", "console.clientSecret", 20, "secrets cannot be written inline")]
    [InlineData("clientSecret: { env: CONSOLE_SECRET }", "clientSecret: { env: MISSING }", "console.clientSecret.env", 20, "environment variable MISSING is not set")]
    [InlineData("publicUrl: https://airlock.example.com", "publicUrl: https://airlock.example.com/console", "console.publicUrl", 21, "without a path, query or fragment")]
    [InlineData("publicUrl: https://airlock.example.com", "publicUrl: https://airlock.example.com/?x=1", "console.publicUrl", 21, "without a path, query or fragment")]
    [InlineData("publicUrl: https://airlock.example.com", "publicUrl: ftp://airlock.example.com", "console.publicUrl", 21, "absolute http(s) URL")]
    [InlineData("publicUrl: https://airlock.example.com", "publicUrl: /reviews", "console.publicUrl", 21, "absolute http(s) URL")]
    public void Mistakes_are_reported_on_their_line(string from, string to, string path, int line, string message)
    {
        var result = Load(Valid.Replace(from, to, StringComparison.Ordinal));

        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-inline", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_of_the_section_is_reported_at_once()
    {
        var result = Load("  issuer: nobody\n  session: 1s\n  scopes: [profile]\n  colour: blue\n");

        Assert.Equal(
            ["console.clientId", "console.clientSecret", "console.colour", "console.issuer", "console.publicUrl", "console.scopes", "console.session"],
            result.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_issuer_must_be_configured_for_people_to_sign_in_with()
    {
        var yaml = Base.Replace("""
              oidc:
                - name: corp
                  issuer: https://login.example.com/
                  audience: urn:airlock
            """, "  apiKeys: true", StringComparison.Ordinal);
        var result = ConfigLoader.Load(yaml + "\nconsole:\n" + Valid, "/etc/airlock/airlock.yaml", name => Env.GetValueOrDefault(name));

        var error = Assert.Single(result.Errors);
        Assert.Equal("console.issuer", error.Path);
        Assert.Contains("none is configured", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8081", false)]
    [InlineData("http://localhost:8081", false)]
    [InlineData("http://[::1]:8081", false)]
    [InlineData("http://airlock.internal.example.com", true)]
    public void Plain_http_beyond_loopback_is_warned_about(string url, bool warned)
    {
        var result = Load(Valid.Replace("https://airlock.example.com", url, StringComparison.Ordinal));

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.False(result.Config!.Console!.IsHttps);
        Assert.Equal(warned, result.Warnings.Any(w => w.Path == "console.publicUrl" && w.Line == 21));
    }

    [Fact]
    public void The_old_reviews_links_still_loads_with_a_deprecation_warning()
    {
        var result = ConfigLoader.Load(Base + "\nreviews:\n  links: https://airlock.example.com/reviews/\n", "/etc/airlock/airlock.yaml", name => Env.GetValueOrDefault(name));

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(new Uri("https://airlock.example.com/reviews/"), result.Config!.Reviews.LinkBase);
        var warning = Assert.Single(result.Warnings, w => w.Path == "reviews.links");
        Assert.Contains("console.publicUrl", warning.Message, StringComparison.Ordinal);
    }
}
