using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Masking;

/// <summary>Responses masked on their way through the real gateway, from a real upstream.</summary>
public sealed class MaskingTests : IAsyncLifetime
{
    private const string Masking = """
            masking:
              detectors:
                - { detector: pii }
                - { detector: payment-card, action: partial }
                - { regex: 'EMP-[0-9]{6}', label: EMPLOYEE-ID, action: hash }
              fields:
                - { path: "$..ssn", action: drop }
                - { path: "$.customers[*].name", action: partial }
              hashKey: { env: MASKING_KEY }
              passthrough: [image/*]
        """;

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        var config = new GatewayConfig().Connection("crm", _upstream.BaseUri, Masking).Connection("plain", _upstream.BaseUri);
        config.Environment["MASKING_KEY"] = "masking-key-for-tests-0123456789";
        _gateway = await TestGateway.StartAsync(config);
        _key = await _gateway.CreateApiKeyAsync("crm-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private void Route(string suffix, string contentType, string body, string? encoding = null) =>
        _upstream.Routes[suffix] = async context =>
        {
            context.Response.ContentType = contentType;
            var bytes = Encoding.UTF8.GetBytes(body);
            if (encoding == "gzip")
            {
                using var compressed = new MemoryStream();
                using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(bytes);
                }

                bytes = compressed.ToArray();
                context.Response.Headers.ContentEncoding = "gzip";
            }

            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes);
        };

    private Task<HttpResponseMessage> GetAsync(string path, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        _gateway.Proxy.SendAsync(TestGateway.Get(path, _key), completion);

    [Fact]
    public async Task The_agent_never_sees_a_listed_value_and_the_session_counts_what_was_masked()
    {
        Route("/customers", "application/json; charset=utf-8", """
            {"customers":[{"name":"Ada Lovelace","email":"ada@example.com","ssn":"123-45-6789","card":"4111 1111 1111 1111","staff":"EMP-123456"},
                          {"name":"Bob Babbage","phone":"+44 20 7946 0958","notes":"from 192.168.1.20"}]}
            """);

        using var response = await GetAsync("/crm/v1/customers");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(body)!;
        var ada = json["customers"]![0]!;
        Assert.Equal("****lace", (string?)ada["name"]);
        Assert.Equal("[REDACTED:EMAIL]", (string?)ada["email"]);
        Assert.Null(ada["ssn"]);
        Assert.Equal("****1111", (string?)ada["card"]);
        Assert.Matches(@"^\[EMPLOYEE-ID:[0-9a-f]{16}\]$", (string?)ada["staff"]);
        Assert.Equal("[REDACTED:PHONE]", (string?)json["customers"]![1]!["phone"]);
        Assert.Equal("from [REDACTED:IPV4]", (string?)json["customers"]![1]!["notes"]);
        foreach (var raw in new[] { "ada@example.com", "123-45-6789", "4111 1111", "EMP-123456", "7946", "192.168" })
        {
            Assert.DoesNotContain(raw, body, StringComparison.Ordinal);
        }

        Assert.Equal("8", response.Headers.GetValues("Airlock-Masked").Single());
        var session = await _gateway.SessionAsync(response);
        Assert.Equal(8, session.Masked);
        var types = JsonNode.Parse(session.MaskedTypes!)!;
        Assert.Equal(1, (int)types["EMAIL"]!);
        Assert.Equal(1, (int)types["CARD"]!);
        Assert.Equal(1, (int)types["SSN"]!);
        Assert.Equal(2, (int)types["NAME"]!);
    }

    [Fact]
    public async Task A_compressed_response_is_decoded_masked_and_sent_plain_and_ranges_are_not_asked_for()
    {
        Route("/compressed", "application/json", """{"email":"ada@example.com"}""", encoding: "gzip");
        var request = TestGateway.Get("/crm/v1/compressed", _key);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 10);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "zstd");

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal("""{"email":"[REDACTED:EMAIL]"}""", await response.Content.ReadAsStringAsync());
        Assert.Empty(response.Content.Headers.ContentEncoding);
        var received = _upstream.Received.Single(r => r.RawTarget == "/v1/compressed");
        Assert.Null(received.Header("Range"));
        Assert.Equal("gzip, deflate, br", received.Header("Accept-Encoding"));
    }

    [Fact]
    public async Task A_response_over_the_buffer_streams_its_first_masked_bytes_before_the_upstream_has_finished()
    {
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Routes["/stream"] = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("[" + string.Join(',', Enumerable.Repeat("{\"email\":\"ada@example.com\",\"pad\":\"" + new string('x', 200) + "\"}", 1500)));
            await context.Response.Body.FlushAsync();
            await rest.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync(",{\"email\":\"bob@example.com\"}]");
        };

        using var response = await GetAsync("/crm/v1/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[4096];
        var read = await body.ReadAtLeastAsync(first, 1024);
        rest.SetResult();
        var whole = Encoding.UTF8.GetString(first, 0, read) + await new StreamReader(body).ReadToEndAsync();

        Assert.StartsWith("[{\"email\":\"[REDACTED:EMAIL]\"", whole, StringComparison.Ordinal);
        Assert.EndsWith("{\"email\":\"[REDACTED:EMAIL]\"}]", whole, StringComparison.Ordinal);
        Assert.DoesNotContain("@example.com", whole, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Airlock-Masked"));
        Assert.Equal(1501, (await _gateway.SessionAsync(response)).Masked);
    }

    [Fact]
    public async Task Server_sent_events_are_masked_as_they_pass()
    {
        var more = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Routes["/events"] = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"to\":\"ada@example.com\"}\n\n");
            await context.Response.Body.FlushAsync();
            await more.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("data: bye bob@example.com\n\n");
        };

        using var response = await GetAsync("/crm/v1/events", HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var firstEvent = await reader.ReadLineAsync();
        more.SetResult();
        var rest = await reader.ReadToEndAsync();

        Assert.Equal("data: {\"to\":\"[REDACTED:EMAIL]\"}", firstEvent);
        Assert.Equal("\ndata: bye [REDACTED:EMAIL]\n\n", rest);
    }

    [Fact]
    public async Task A_small_chunked_response_is_masked_whole_and_carries_the_count()
    {
        _upstream.Routes["/chunked"] = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"a\":\"ada@example.com\",");
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("\"b\":\"bob@example.com\"}");
        };

        using var response = await GetAsync("/crm/v1/chunked");

        Assert.Equal("{\"a\":\"[REDACTED:EMAIL]\",\"b\":\"[REDACTED:EMAIL]\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("Airlock-Masked").Single());
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Header_values_are_masked_too()
    {
        using var response = await GetAsync("/crm/v1/anything?leak-header=owner%20ada%40example.com");

        Assert.Equal("owner [REDACTED:EMAIL]", response.Headers.GetValues("X-Leak").Single());
    }

    [Theory]
    [InlineData("application/pdf", "cannot inspect application/pdf")]
    [InlineData("text/plain; charset=iso-8859-1", "is not in UTF-8")]
    public async Task What_the_engine_cannot_inspect_is_blocked_with_a_problem(string contentType, string why)
    {
        Route("/document", contentType, "ada@example.com");

        using var response = await GetAsync("/crm/v1/document");
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:airlock:problem:response-not-maskable", (string?)problem["type"]);
        Assert.Contains(why, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("response-not-maskable", (await _gateway.SessionAsync(response)).Error);
    }

    [Fact]
    public async Task A_type_the_connection_lets_through_passes_unmasked_and_other_connections_are_untouched()
    {
        Route("/logo", "image/png", "png-bytes ada@example.com");
        Route("/plain-json", "application/json", """{"email":"ada@example.com"}""");

        using var image = await GetAsync("/crm/v1/logo");
        using var unmaskedConnection = await GetAsync("/plain/v1/plain-json");

        Assert.Equal("png-bytes ada@example.com", await image.Content.ReadAsStringAsync());
        Assert.Equal("""{"email":"ada@example.com"}""", await unmaskedConnection.Content.ReadAsStringAsync());
        Assert.False(unmaskedConnection.Headers.Contains("Airlock-Masked"));
    }

    [Fact]
    public async Task Json_that_breaks_midway_with_field_rules_is_cut_off_not_leaked()
    {
        _upstream.Routes["/broken"] = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("[" + string.Join(',', Enumerable.Repeat("{\"ssn\":\"123-45-6789\",\"pad\":\"" + new string('x', 300) + "\"}", 2000)));
            await context.Response.WriteAsync(",{\"ssn\": 'not json' 234-56-7890}]");
        };

        using var response = await GetAsync("/crm/v1/broken", HttpCompletionOption.ResponseHeadersRead);
        var received = new MemoryStream();
        var cut = await Record.ExceptionAsync(async () => await (await response.Content.ReadAsStreamAsync()).CopyToAsync(received));

        Assert.NotNull(cut);
        Assert.DoesNotContain("234-56-7890", Encoding.UTF8.GetString(received.ToArray()), StringComparison.Ordinal);
        Assert.DoesNotContain("123-45-6789", Encoding.UTF8.GetString(received.ToArray()), StringComparison.Ordinal);
        var session = await Eventually.GetAsync(async () =>
            (await _gateway.Store.ListSessionsAsync(new Airlock.Gateway.Sessions.SessionQuery(), CancellationToken.None))
                .FirstOrDefault(s => s.Path == "/crm/v1/broken"));
        Assert.Equal("response-not-maskable", session.Error);
        // The trail says the rest was withheld, after the request was allowed.
        var story = (await _gateway.Store.QueryAuditEventsAsync(new Airlock.Gateway.Storage.AuditQuery(Limit: 1000), CancellationToken.None))
            .Where(e => e.SessionId == session.Id).ToList();
        Assert.Equal(["request.allowed", "response.blocked"], story.Select(e => e.Kind));
        Assert.Equal(("response-not-maskable", "true", "200"), (story[1].Detail["problem"], story[1].Detail["partial"], story[1].Detail["upstreamStatus"]));
    }
}
