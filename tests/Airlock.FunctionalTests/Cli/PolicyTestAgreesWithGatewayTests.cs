using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Cli;

/// <summary>
/// <c>airlock policy test</c> answers what the gateway would: each request here is sent through
/// a real gateway and described to the CLI with the gateway's own configuration, and both must
/// say the same. Beyond the policy's decision, the gateway refuses a body it must read and cannot
/// read as UTF-8 (a connection with <c>refuseQueriesOnMaskedFields</c> reads every body), and a
/// request that asks about a masked value; the CLI used to say "allow" to both.
/// </summary>
public sealed class PolicyTestAgreesWithGatewayTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: customers
            when: { methods: [GET, POST] }
            action: allow
          - name: no-deletes
            when: { methods: [DELETE] }
            action: deny
        """;

    private const string Masking = """
            masking:
              detectors:
                - { detector: us-ssn }
              fields:
                - { path: "$..ssn" }
              refuseQueriesOnMaskedFields: true
        """;

    private const string Boundary = "airlock-test-boundary";

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("crm", _upstream.BaseUri, Masking)
            .Connection("open", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static string Part(string headers, string content) =>
        $"--{Boundary}\r\n{headers}\r\n{content}\r\n--{Boundary}--\r\n";

    public static TheoryData<string, string, string?, string?, string> Requests => new()
    {
        { "GET", "/crm/customers?name=Ada", null, null, "decision: allow" },
        // Questions about a masked field: by query parameter, path segment, body field, part name.
        { "GET", "/crm/customers?ssn_like=%5E1", null, null, "decision: refused (403 masked-field-query)" },
        { "GET", "/crm/customers/ssn/1", null, null, "decision: refused (403 masked-field-query)" },
        { "POST", "/crm/customers/search", "application/json", "{\"filter\":{\"ssn\":\"^1\"}}", "decision: refused (403 masked-field-query)" },
        { "POST", "/crm/customers/search", $"multipart/form-data; boundary={Boundary}",
            Part("Content-Disposition: form-data; name=\"ssn\"\r\n", "^1"), "decision: refused (403 masked-field-query)" },
        // A denial comes first: the gateway answers it, not the masked-field refusal.
        { "DELETE", "/crm/customers?ssn_like=%5E1", null, null, "decision: deny" },
        // The connection reads every body, so one that does not read as UTF-8 is refused.
        { "POST", "/crm/customers/search", "application/json; charset=utf-7", "{\"name\":\"Ada\"}", "decision: refused (415 unsupported-charset)" },
        { "POST", "/crm/customers/search", $"multipart/form-data; boundary={Boundary}",
            Part("Content-Disposition: form-data; name=\"name\"\r\nContent-Type: text/plain; charset=utf-7\r\n", "Ada"),
            "decision: refused (415 unsupported-charset)" },
        { "POST", "/crm/customers/search", "application/xml", "<?xml version=\"1.0\" encoding=\"utf-7\"?><name>Ada</name>",
            "decision: refused (415 unsupported-charset)" },
        // A connection that does not refuse such questions reads no body no rule needs.
        { "POST", "/open/customers/search", "text/plain; charset=utf-7", "{\"ssn\":\"^1\"}", "decision: allow" },
        // A methods condition reads a JSON POST's body for a _method override, so in UTF-8 only.
        { "POST", "/open/customers/search", "application/json; charset=utf-7", "{\"ssn\":\"^1\"}", "decision: refused (415 unsupported-charset)" },
        { "POST", "/open/customers/search", "application/json", "{\"_method\":\"DELETE\"}", "decision: deny" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Policy_test_says_what_the_gateway_answers(string method, string target, string? contentType, string? body, string expected)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), target);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        string[] described = ["policy", "test", "--config", Path.Combine(_gateway.Directory, "airlock.yaml"), "--as", "key:agent", "--groups", "agents",
            "--method", method, "--path", target];
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            described = [.. described, "-H", $"Content-Type: {contentType}", "--body", body];
        }

        using var response = await _gateway.Proxy.SendAsync(request);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(described, stdout, stderr);

        Assert.True(exit == 0, stderr.ToString());
        var decision = stdout.ToString().Split('\n')[0].Split(", before")[0].TrimEnd();
        Assert.Equal(expected, decision);
        var (answer, detail) = await GatewayAnswerAsync(response);
        Assert.Equal(expected, answer);
        if (expected.StartsWith("decision: refused", StringComparison.Ordinal))
        {
            // The same reason, word for word: where the request asks, and which masked field.
            Assert.Contains(detail!, stdout.ToString(), StringComparison.Ordinal);
        }
    }

    /// <summary>The gateway's answer, written as <c>policy test</c> writes a decision, and its detail.</summary>
    private static async Task<(string Answer, string? Detail)> GatewayAnswerAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return ("decision: allow", null);
        }

        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var type = ((string?)problem["type"])!["urn:airlock:problem:".Length..];
        return (type == "denied" ? "decision: deny" : $"decision: refused ({(int)response.StatusCode} {type})", (string?)problem["detail"]);
    }
}
