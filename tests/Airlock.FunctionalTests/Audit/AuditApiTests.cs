using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Microsoft.Data.Sqlite;

namespace Airlock.FunctionalTests.Audit;

/// <summary>The audit trail on the admin API: query, verify, checkpoints; for admins and auditors.</summary>
public sealed class AuditApiTests : IAsyncLifetime
{
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _publicPem = "";

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        var directory = Directory.CreateTempSubdirectory("airlock-audit-api-").FullName;
        var (privatePem, publicPem) = AuditSigner.Generate();
        await File.WriteAllTextAsync(Path.Combine(directory, "audit-key.pem"), privatePem);
        _publicPem = publicPem;
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - { name: reads, when: { methods: [GET] }, action: allow }
                  - { name: no-writes, when: { methods: [POST] }, action: deny, message: read only }
                """,
            Admin = "  adminGroups: [airlock-admins]\n  auditorGroups: [auditors]",
            Audit = "  signingKey: { file: ./audit-key.pem }",
        }.Connection("billing", _upstream.BaseUri).Connection("crm", _upstream.BaseUri).TrustIssuer(_idp.Issuer), directory: directory);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<JsonNode> GetJsonAsync(string path, string person = "auditor", HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await _gateway.AdminAsync(HttpMethod.Get, path, await _idp.TokenAsync(person));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    [Fact]
    public async Task Auditors_read_decisions_filtered_by_actor_and_connection_in_their_canonical_form()
    {
        var key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", key))).EnsureSuccessStatusCode();
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/contacts", key))).EnsureSuccessStatusCode();
        using var denied = await _gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/billing/v1/refunds")
        {
            Headers = { Authorization = new("Bearer", key) },
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        });
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);

        var page = await GetJsonAsync("/api/audit?actor=key:billing-agent&connection=billing");

        var events = page["events"]!.AsArray();
        Assert.Equal(["request.allowed", "request.denied"], events.Select(e => (string?)e!["kind"]));
        Assert.Equal("/billing/v1/invoices", (string?)events[0]!["target"]!["path"]);
        Assert.Equal("apikey", (string?)events[0]!["actor"]!["authMethod"]);
        Assert.Equal("no-writes", (string?)events[1]!["rule"]);
        Assert.Equal(_gateway.Policies.Current.Version, (string?)events[1]!["policyVersion"]);
        Assert.Null(page["next"]);
        foreach (var e in events)
        {
            // What the API returns is exactly what was hashed: a client can check it itself.
            var parsed = AuditChain.Parse(Encoding.UTF8.GetBytes(e!.ToJsonString()));
            Assert.Equal((string?)e["hash"], AuditChain.HashOf(AuditChain.Canonicalize(parsed)));
        }
    }

    [Fact]
    public async Task Pages_follow_on_with_next_until_the_end()
    {
        var total = (await GetJsonAsync("/api/audit?limit=1000"))["events"]!.AsArray().Count;
        var seen = new List<long>();
        long? after = 0;
        while (after is not null)
        {
            var page = await GetJsonAsync($"/api/audit?limit=1&after={after}");
            seen.AddRange(page["events"]!.AsArray().Select(e => (long)e!["seq"]!));
            after = (long?)page["next"];
        }

        Assert.Equal(total, seen.Count);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), seen);
    }

    [Theory]
    [InlineData("/api/audit?since=yesterday", "since and until are ISO 8601 times")]
    [InlineData("/api/audit?limit=0", "limit is 1 to 1000")]
    [InlineData("/api/audit?after=-1", "after is an event number")]
    [InlineData("/api/audit?subject=alice", "unknown parameter 'subject'")]
    public async Task Bad_filters_are_refused_with_a_problem(string path, string detail)
    {
        using var response = await _gateway.AdminAsync(HttpMethod.Get, path, await _idp.TokenAsync("auditor"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:invalid-request", (string?)problem["type"]);
        Assert.Contains(detail, (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task People_without_the_admin_or_auditor_role_cannot_read_the_trail()
    {
        using var carol = await _gateway.AdminAsync(HttpMethod.Get, "/api/audit", await _idp.TokenAsync("carol"));
        using var anonymous = await _gateway.Admin.GetAsync("/api/audit/verify");
        using var auditorSigns = await _gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", await _idp.TokenAsync("auditor"));

        Assert.Equal(HttpStatusCode.Forbidden, carol.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, auditorSigns.StatusCode);
    }

    [Fact]
    public async Task Verify_reports_an_intact_trail_then_the_event_edited_in_the_database()
    {
        var key = await _gateway.CreateApiKeyAsync("report-agent", "agents");
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", key))).EnsureSuccessStatusCode();
        using var signed = await _gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", await _idp.TokenAsync("admin"));
        Assert.Equal(HttpStatusCode.Created, signed.StatusCode);

        var intact = await GetJsonAsync("/api/audit/verify");
        Assert.True((bool)intact["valid"]!);
        Assert.True((bool)intact["signaturesChecked"]!);
        Assert.Null(intact["break"]);
        Assert.Contains("signature valid, head hash matches", (string?)intact["checkpoints"]![0], StringComparison.Ordinal);

        var allowed = (await GetJsonAsync("/api/audit?actor=key:report-agent"))["events"]!.AsArray().Single()!;
        var seq = (long)allowed["seq"]!;
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")}"))
        {
            await db.OpenAsync();
            var edit = db.CreateCommand();
            // Someone with database access turns the record of a read into one of a delete.
            edit.CommandText = "UPDATE audit_events SET event = CAST(replace(CAST(event AS TEXT), '\"GET\"', '\"DELETE\"') AS BLOB) WHERE seq = $seq";
            edit.Parameters.AddWithValue("$seq", seq);
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        }

        var broken = await GetJsonAsync("/api/audit/verify");
        Assert.False((bool)broken["valid"]!);
        Assert.Equal(seq, (long)broken["break"]!["seq"]!);
        Assert.Contains($"event {seq} was changed", (string?)broken["break"]!["problem"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncate", "the tail was truncated")]
    [InlineData("rewrite", "it was rewritten")]
    public async Task The_gateway_refuses_to_sign_a_chain_changed_under_it(string tampering, string problem)
    {
        var key = await _gateway.CreateApiKeyAsync("signer-test", "agents");
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/a", key))).EnsureSuccessStatusCode();
        var admin = await _idp.TokenAsync("admin");
        using (var first = await _gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", admin))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/b", key))).EnsureSuccessStatusCode();
        var (count, _) = await _gateway.Store.GetAuditHeadAsync(CancellationToken.None);
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")};Pooling=false"))
        {
            await db.OpenAsync();
            var edit = db.CreateCommand();
            if (tampering == "truncate")
            {
                // Cut below the signed checkpoint.
                edit.CommandText = "DELETE FROM audit_events WHERE seq >= (SELECT MAX(count) FROM audit_checkpoints)";
            }
            else
            {
                // Rewrite the last event, its hash recomputed so that every link holds.
                var stored = await _gateway.Store.ReadAuditChainAsync(count, CancellationToken.None).SingleAsync();
                var forged = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(stored.Canonical).Replace("/billing/v1/b", "/billing/v1/c", StringComparison.Ordinal));
                edit.CommandText = "UPDATE audit_events SET event = $event, hash = $hash WHERE seq = $seq";
                edit.Parameters.AddWithValue("$event", forged);
                edit.Parameters.AddWithValue("$hash", AuditChain.HashOf(forged));
                edit.Parameters.AddWithValue("$seq", count);
            }

            Assert.True(await edit.ExecuteNonQueryAsync() > 0);
        }

        using var refused = await _gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", admin);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var detail = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:audit-chain-broken", (string?)detail["type"]);
        Assert.Contains(problem, (string?)detail["detail"], StringComparison.Ordinal);
        Assert.Single(await _gateway.Store.ListAuditCheckpointsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Verifications_run_one_at_a_time()
    {
        var gate = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Airlock.Gateway.Admin.AuditVerificationGate>(_gateway.Services);
        await gate.Semaphore.WaitAsync();
        HttpResponseMessage busy;
        try
        {
            busy = await _gateway.AdminAsync(HttpMethod.Get, "/api/audit/verify", await _idp.TokenAsync("auditor"));
        }
        finally
        {
            gate.Semaphore.Release();
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.Equal("5", busy.Headers.GetValues("Retry-After").Single());
        Assert.True((bool)(await GetJsonAsync("/api/audit/verify"))["valid"]!);
        busy.Dispose();
    }

    [Fact]
    public async Task Checkpoints_are_signed_on_demand_and_verify_with_the_published_public_key()
    {
        using var first = await _gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", await _idp.TokenAsync("admin"));
        using var again = await _gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", await _idp.TokenAsync("admin"));
        var listed = await GetJsonAsync("/api/audit/checkpoints");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        // Nothing recorded in between: the latest checkpoint is returned, not a new one.
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var checkpoint = AuditCheckpoint.Parse(await first.Content.ReadAsStringAsync());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(_publicPem.Trim(), ((string?)listed["publicKey"])!.Trim());
        Assert.Null(AuditSigner.Verify(checkpoint, (string)listed["publicKey"]!));
        var (count, head) = await _gateway.Store.GetAuditHeadAsync(CancellationToken.None);
        Assert.Equal((count, head), (checkpoint.Count, checkpoint.HeadHash));
        Assert.Equal(checkpoint.Signature, AuditCheckpoint.Parse(listed["checkpoints"]!.AsArray()[^1]!.ToJsonString()).Signature);
    }
}

/// <summary>Without a signing key, on-demand checkpoints are refused with a problem that says why.</summary>
public sealed class AuditWithoutKeyApiTests
{
    [Fact]
    public async Task Signing_without_a_key_is_a_409_problem()
    {
        var idp = await TestServices.Idp;
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Admin = "  adminGroups: [airlock-admins]",
        }.Connection("billing", new Uri("http://127.0.0.1:9")).TrustIssuer(idp.Issuer));

        using var response = await gateway.AdminAsync(HttpMethod.Post, "/api/audit/checkpoints", await idp.TokenAsync("admin"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:audit-signing-disabled", (string?)problem["type"]);
        Assert.Contains("airlock audit keygen", (string?)problem["detail"], StringComparison.Ordinal);
    }
}
