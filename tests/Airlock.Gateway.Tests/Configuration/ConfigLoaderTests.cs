using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

public class ConfigLoaderTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["BILLING_TOKEN"] = "upstream-secret-value",
        ["PG"] = "Host=127.0.0.1;Username=postgres;Password=pw",
        ["BROKEN"] = "line\r\nInjected: yes",
    };

    private static ConfigLoadResult Load(string yaml) => ConfigLoader.Load(yaml, "/etc/airlock/airlock.yaml", name => Env.GetValueOrDefault(name));

    private const string Valid = """
        listeners:
          proxy: 127.0.0.1:8080
          admin: 127.0.0.1:8081
        store:
          sqlite: ./data/airlock.db
        identity:
          apiKeys: true
          oidc:
            - name: corp
              issuer: https://login.example.com/
              audience: [urn:airlock, urn:other]
              groupsClaim: roles
              algorithms: [RS256, ES256]
              clockSkew: 10s
        connections:
          billing:
            upstream: https://billing.example.com/api/
            timeouts: { connect: 2s, response: 45s }
            credential: { type: bearer, secret: { env: BILLING_TOKEN } }
          crm:
            upstream: http://127.0.0.1:9000
            credential: { type: basic, username: svc, secret: { env: BILLING_TOKEN } }
          tickets:
            upstream: http://127.0.0.1:9001
            credential: { type: header, header: X-Api-Key, secret: { env: BILLING_TOKEN } }
          public:
            upstream: http://127.0.0.1:9002
            credential: { type: none }
        policy:
          file: ./policy.yaml
        """;

    [Fact]
    public void A_sqlite_store_beside_the_policy_file_is_warned_about_with_its_line()
    {
        Assert.DoesNotContain(Load(Valid).Warnings, w => w.Path == "store.sqlite");

        var beside = Load(Valid.Replace("./data/airlock.db", "./airlock.db", StringComparison.Ordinal));
        Assert.True(beside.Succeeded);
        var warning = Assert.Single(beside.Warnings, w => w.Path == "store.sqlite");
        Assert.Equal(5, warning.Line);
        Assert.Contains("directory of its own", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_file_loads_with_every_value_in_place()
    {
        var result = Load(Valid);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var config = result.Config!;
        Assert.Equal(8080, config.Listeners.Proxy.Port);
        Assert.Equal("/etc/airlock/data/airlock.db", Assert.IsType<SqliteStoreConfig>(config.Store).Path);
        var issuer = Assert.Single(config.Identity.Issuers);
        Assert.Equal(["urn:airlock", "urn:other"], issuer.Audiences.ToArray());
        Assert.Equal("roles", issuer.GroupsClaim);
        Assert.Equal(["at+jwt"], issuer.TokenTypes.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(10), issuer.ClockSkew);
        Assert.Equal(["billing", "crm", "tickets", "public"], config.Connections.Select(c => c.Name));

        var billing = config.Connections[0];
        Assert.Equal("https://billing.example.com/api", billing.Upstream.ToString().TrimEnd('/'));
        Assert.Equal(TimeSpan.FromSeconds(45), billing.ResponseTimeout);
        Assert.Equal("Authorization", billing.Credential.HeaderName);
        Assert.Equal("Bearer upstream-secret-value", billing.Credential.HeaderValue!.Reveal());
        Assert.Equal("Basic " + Convert.ToBase64String("svc:upstream-secret-value"u8.ToArray()), config.Connections[1].Credential.HeaderValue!.Reveal());
        Assert.Equal("X-Api-Key", config.Connections[2].Credential.HeaderName);
        Assert.Null(config.Connections[3].Credential.HeaderValue);
    }

    // The three below were found by ConfigParserProperties (tests/Airlock.Gateway.Tests/Properties).
    [Fact]
    public void A_hash_action_loads_without_resolving_secrets()
    {
        var masking = "    masking:\n      fields: [{ path: \"$.id\", action: hash }]\n      hashKey: { env: NOT_SET_ANYWHERE }\n  crm:";
        var yaml = Valid.Replace("\n  crm:", "\n" + masking, StringComparison.Ordinal);
        Assert.Contains("action: hash", yaml, StringComparison.Ordinal);

        var result = ConfigLoader.Load(yaml, "/etc/airlock/airlock.yaml", _ => null, resolveSecrets: false);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    [Fact]
    public void A_nul_in_a_value_is_an_error_on_its_line()
    {
        var result = Load(Valid.Replace("file: ./policy.yaml", "file: \"./pol\\u0000icy.yaml\"", StringComparison.Ordinal));

        var error = Assert.Single(result.Errors);
        Assert.Equal("policy.file", error.Path);
        Assert.Equal(Valid.Split('\n').ToList().FindIndex(l => l.Contains("file: ./policy.yaml", StringComparison.Ordinal)) + 1, error.Line);
    }

    [Fact]
    public void A_missing_credential_secret_is_reported_on_the_credential_line()
    {
        var result = Load(Valid.Replace("credential: { type: none }", "credential: { type: bearer }", StringComparison.Ordinal));

        var error = Assert.Single(result.Errors);
        Assert.Equal("connections.public.credential.secret", error.Path);
        Assert.True(error.Line > 0, error.ToString());
    }

    [Fact]
    public void Every_error_is_reported_at_once_with_its_line()
    {
        var result = Load("""
            listeners:
              proxy: 127.0.0.1:8080
              admin: nowhere
            store:
              sqlite: ./a.db
            identity:
              apiKeys: maybe
            connections:
              Billing:
                upstream: ftp://x
                credential: { type: bearer, secret: { env: BILLING_TOKEN } }
              crm:
                upstream: http://127.0.0.1:9000
                timeouts: { connect: 5 }
                credential: { type: bearer, secret: { env: MISSING_VAR } }
              tickets:
                upstrem: http://127.0.0.1:9001
                credential: { type: none }
            """);

        Assert.False(result.Succeeded);
        var messages = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(messages, m => m.StartsWith("/etc/airlock/airlock.yaml:3:10: listeners.admin: 'nowhere' is not an address", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("/etc/airlock/airlock.yaml:7:12: identity.apiKeys: must be true or false", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains(":9:3: connections.Billing: a connection name must be lowercase", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains(":14:26: connections.crm.timeouts.connect: '5' is not a duration", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("connections.crm.credential.secret.env: environment variable MISSING_VAR is not set", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains(":17:5: connections.tickets.upstrem: unknown key", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("connections.tickets.upstream: is required", StringComparison.Ordinal));
        Assert.True(result.Errors.Count >= 7);
    }

    [Fact]
    public void An_inline_secret_is_refused_without_echoing_it()
    {
        var result = Load(Valid.Replace("secret: { env: BILLING_TOKEN } }\n  crm", "secret: hunter2-inline }\n  crm", StringComparison.Ordinal));

        var error = Assert.Single(result.Errors);
        Assert.Equal("connections.billing.credential.secret", error.Path);
        Assert.Contains("cannot be written inline", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_with_a_line_break_is_refused()
    {
        var result = Load(Valid.Replace("{ env: BILLING_TOKEN } }\n  crm", "{ env: BROKEN } }\n  crm", StringComparison.Ordinal));

        var error = Assert.Single(result.Errors);
        Assert.Contains("control character", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Injected", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_prints_only_where_it_came_from()
    {
        var config = Load(Valid).Config!;
        var secret = config.Connections[0].Credential.HeaderValue!;

        Assert.Equal("secret(env:BILLING_TOKEN)", secret.ToString());
        Assert.DoesNotContain("upstream-secret-value", config.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_can_come_from_a_file_relative_to_the_config()
    {
        var dir = Directory.CreateTempSubdirectory("airlock-config-");
        File.WriteAllText(Path.Combine(dir.FullName, "token.txt"), "from-file\n");
        var yaml = Valid.Replace("{ env: BILLING_TOKEN } }\n  crm", "{ file: token.txt } }\n  crm", StringComparison.Ordinal);

        var result = ConfigLoader.Load(yaml, Path.Combine(dir.FullName, "airlock.yaml"), name => Env.GetValueOrDefault(name));

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal("Bearer from-file", result.Config!.Connections[0].Credential.HeaderValue!.Reveal());
    }

    [Theory]
    [InlineData("upstream: http://user:pass@127.0.0.1:9000", "must not carry a user name or password")]
    [InlineData("upstream: http://127.0.0.1:9000/?a=b", "must not have a query")]
    [InlineData("upstream: /relative", "must be an absolute http or https URL")]
    public void Bad_upstreams_are_refused(string line, string message)
    {
        var result = Load(Valid.Replace("upstream: http://127.0.0.1:9000", line, StringComparison.Ordinal));

        var error = Assert.Single(result.Errors);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pass@", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("algorithms: [RS256, ES256]", "algorithms: [HS256]", "'HS256' is not allowed")]
    [InlineData("algorithms: [RS256, ES256]", "algorithms: [none]", "'none' is not allowed")]
    [InlineData("issuer: https://login.example.com/", "issuer: http://login.example.com/", "is plain http")]
    [InlineData("      audience: [urn:airlock, urn:other]\n", "", "audience: is required")]
    [InlineData("audience: [urn:airlock, urn:other]", "audience: []", "audience: is required")]
    [InlineData("algorithms: [RS256, ES256]", "algorithms: []", "must name at least one algorithm")]
    [InlineData("clockSkew: 10s", "clockSkew: 10s\n      tokenTypes: []", "must name at least one token type")]
    [InlineData("name: corp", "name: key", "'key' is reserved")]
    [InlineData("name: corp", "name: airlock", "'airlock' is reserved")]
    public void Unsafe_identity_settings_are_refused(string from, string to, string message)
    {
        var result = Load(Valid.Replace(from, to, StringComparison.Ordinal));

        Assert.Contains(result.Errors, e => e.ToString().Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("header: X-Api-Key", "header: Host")]
    [InlineData("header: X-Api-Key", "header: X-Forwarded-For")]
    [InlineData("header: X-Api-Key", "header: \"Bad Header\"")]
    public void A_credential_cannot_be_put_in_a_header_the_gateway_manages(string from, string to)
    {
        var result = Load(Valid.Replace(from, to, StringComparison.Ordinal));

        Assert.Contains(result.Errors, e => e.Path == "connections.tickets.credential.header");
    }

    [Fact]
    public void Proxy_and_admin_cannot_share_a_port()
    {
        var result = Load(Valid.Replace("admin: 127.0.0.1:8081", "admin: 127.0.0.1:8080", StringComparison.Ordinal));

        Assert.Contains(result.Errors, e => e.Message.Contains("different ports", StringComparison.Ordinal));
    }

    [Fact]
    public void Exactly_one_store_engine_is_required()
    {
        var both = Load(Valid.Replace("  sqlite: ./data/airlock.db", "  sqlite: ./data/airlock.db\n  postgres: { env: PG }", StringComparison.Ordinal));
        var postgres = Load(Valid.Replace("  sqlite: ./data/airlock.db", "  postgres: { env: PG }", StringComparison.Ordinal));

        Assert.Contains(both.Errors, e => e.Message.Contains("exactly one engine", StringComparison.Ordinal));
        var malformed = ConfigLoader.Load(Valid.Replace("  sqlite: ./data/airlock.db", "  postgres: { env: BAD_PG }", StringComparison.Ordinal),
            "/etc/airlock/airlock.yaml", name => name == "BAD_PG" ? "Host=x;Pasword=hunter2" : Env.GetValueOrDefault(name));
        var error = Assert.Single(malformed.Errors);
        Assert.Equal("the value of env:BAD_PG is not a valid PostgreSQL connection string", error.Message);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("Host=127.0.0.1;Username=postgres;Password=pw",
            Assert.IsType<PostgresStoreConfig>(postgres.Config!.Store).ConnectionString.Reveal());
    }

    [Fact]
    public void Sqlite_settings_are_read_and_checked()
    {
        var set = Load(Valid.Replace("  sqlite: ./data/airlock.db", "  sqlite: { path: ./data/airlock.db, busyTimeout: 2s, maxSize: 64MiB }", StringComparison.Ordinal));
        var plain = Load(Valid);
        var bad = Load(Valid.Replace("  sqlite: ./data/airlock.db", "  sqlite: { path: a.db, busyTimeout: 0s, maxSize: 1KiB, journal: off }", StringComparison.Ordinal));

        Assert.Equal(new SqliteStoreConfig("/etc/airlock/data/airlock.db", TimeSpan.FromSeconds(2), 64L << 20), set.Config!.Store);
        Assert.Equal(new SqliteStoreConfig("/etc/airlock/data/airlock.db", TimeSpan.FromSeconds(30)), plain.Config!.Store);
        Assert.Contains(bad.Errors, e => e.Path == "store.sqlite.busyTimeout");
        Assert.Contains(bad.Errors, e => e.Path == "store.sqlite.maxSize" && e.Message.Contains("1MiB", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.Path == "store.sqlite.journal");
    }

    [Fact]
    public void No_way_to_authenticate_is_an_error()
    {
        var result = Load("""
            listeners: { proxy: 127.0.0.1:0, admin: 127.0.0.1:0 }
            store: { sqlite: a.db }
            identity: { apiKeys: false }
            connections: {}
            policy: { file: p.yaml }
            """);

        Assert.Contains(result.Errors, e => e.Message.StartsWith("no way to authenticate", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("listeners: [", "invalid YAML")]
    [InlineData("", "the file is empty")]
    [InlineData("- a\n- b", "must be a mapping")]
    public void Unreadable_files_get_a_clear_error(string yaml, string message)
    {
        var result = Load(yaml);

        Assert.Contains(result.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Listening_beyond_loopback_is_warned_about()
    {
        var result = Load(Valid.Replace("proxy: 127.0.0.1:8080", "proxy: 0.0.0.0:8080", StringComparison.Ordinal));

        Assert.True(result.Succeeded);
        Assert.Contains(result.Warnings, w => w.Path == "listeners.proxy");
    }

    [Fact]
    public void The_idle_timeout_defaults_to_half_a_second_and_is_bounded()
    {
        var set = Load(Valid.Replace("response: 45s }", "response: 45s, idle: 1500ms }", StringComparison.Ordinal));
        var never = Load(Valid.Replace("response: 45s }", "response: 45s, idle: 0s }", StringComparison.Ordinal));
        var tooLong = Load(Valid.Replace("response: 45s }", "response: 45s, idle: 11m }", StringComparison.Ordinal));

        Assert.Equal(TimeSpan.FromMilliseconds(500), Load(Valid).Config!.Connections[0].IdleTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), set.Config!.Connections[0].IdleTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), set.Config.Connections[1].IdleTimeout);
        Assert.Equal(TimeSpan.Zero, never.Config!.Connections[0].IdleTimeout);
        Assert.False(tooLong.Succeeded);
        Assert.Contains(tooLong.Errors, e => e.Path == "connections.billing.timeouts.idle");
    }

    [Fact]
    public void Retries_default_to_none_and_are_bounded()
    {
        var retrying = Load(Valid.Replace("timeouts: { connect: 2s, response: 45s }", "timeouts: { connect: 2s, response: 45s }\n    retries: 2", StringComparison.Ordinal));
        var tooMany = Load(Valid.Replace("timeouts: { connect: 2s, response: 45s }", "timeouts: { connect: 2s, response: 45s }\n    retries: 9", StringComparison.Ordinal));

        Assert.Equal(0, Load(Valid).Config!.Connections[0].Retries);
        Assert.Equal(2, retrying.Config!.Connections[0].Retries);
        Assert.Equal(0, retrying.Config.Connections[1].Retries);
        Assert.False(tooMany.Succeeded);
        Assert.Contains(tooMany.Errors, e => e.Path == "connections.billing.retries" && e.Message == "must be a whole number from 0 to 5");
    }
}
