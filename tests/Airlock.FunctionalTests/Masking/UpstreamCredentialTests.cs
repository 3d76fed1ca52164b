using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Masking;

/// <summary>
/// The credential the gateway injects never comes back to the agent, whatever the upstream does
/// with it: a real upstream echoes the request's credential in its response headers and, in many
/// encodings, in its body; on a connection without masking and on one with every detector.
/// </summary>
public sealed class UpstreamCredentialTests : IAsyncLifetime
{
    /// <summary>Not secret-shaped (no detector knows it), and with the characters encodings change.</summary>
    private const string Token = "Up5tream+Secret/Token=9f8e7d42c0ffee";
    private const string BasicUser = "svc-billing";
    private const string BasicPassword = "basic+Pass/word=7a6b5c4d";
    private const string ApiKey = "key-0a1b2c3d4e5f/6a7b8c9d+0e1f";
    private const string Redacted = "[REDACTED:UPSTREAM-CREDENTIAL]";

    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/echo"] = EchoAsync;
        var config = new GatewayConfig
        {
            Policy = """
                rules:
                  - name: refunds
                    when: { methods: [POST] }
                    action: review
                    review: { approvers: [finance-approvers], hold: 30s, expires: 1h }
                  - { name: reads, action: allow }
                """,
        }
            .Connection("plain", _upstream.BaseUri)
            .Connection("masked", _upstream.BaseUri, """
                    masking:
                      detectors: [{ detector: all }]
                      passthrough: [application/octet-stream]
                """)
            .Connection("basic", _upstream.BaseUri, "    credential: { type: basic, username: " + BasicUser + ", secret: { env: BASIC_SECRET } }")
            .Connection("keyed", _upstream.BaseUri, "    credential: { type: header, header: X-Api-Key, secret: { env: API_KEY } }")
            .TrustIssuer(_idp.Issuer);
        config.Environment["UPSTREAM_TOKEN"] = Token;
        config.Environment["BASIC_SECRET"] = BasicPassword;
        config.Environment["API_KEY"] = ApiKey;
        _gateway = await TestGateway.StartAsync(config);
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>An upstream that echoes the credential it received: in a header always, and in
    /// the body in the form <c>?form=</c> names.</summary>
    private static async Task EchoAsync(HttpContext context)
    {
        var request = context.Request;
        var name = request.Headers.ContainsKey("X-Api-Key") ? "X-Api-Key" : "Authorization";
        var sent = request.Headers[name].ToString();
        context.Response.Headers["X-Echo-" + name] = sent;
        var form = request.Query["form"].ToString();
        switch (form)
        {
            case "json":
                // System.Text.Json's default escaping: '+' becomes \u002B.
                await SendAsync(context, "application/json", JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { [name] = sent }));
                break;
            case "json-slashes":
                // PHP's json_encode escapes '/' as \/.
                await SendAsync(context, "application/json", Encoding.UTF8.GetBytes("{\"seen\":\"" + sent.Replace("/", "\\/", StringComparison.Ordinal) + "\"}"));
                break;
            case "text":
                await SendAsync(context, "text/plain", Encoding.UTF8.GetBytes($"{name}: {sent}\n"));
                break;
            case "url":
                await SendAsync(context, "text/plain", Encoding.UTF8.GetBytes(
                    "next=https://hooks.example/cb?auth=" + Uri.EscapeDataString(sent) + "&again=" + System.Web.HttpUtility.UrlEncode(sent) + "\n"));
                break;
            case "base64":
                // The whole request head, base64-encoded, at each of the three alignments.
                var head = $"GET /echo HTTP/1.1\r\n{name}: {sent}\r\nHost: upstream\r\n\r\n";
                var fields = Enumerable.Range(0, 3).ToDictionary(i => "raw" + i, i => Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('x', i) + head)));
                fields["bare"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(sent[(sent.IndexOf(' ', StringComparison.Ordinal) + 1)..]));
                await SendAsync(context, "application/json", JsonSerializer.SerializeToUtf8Bytes(fields));
                break;
            case "split":
                // Chunked, no length, the credential cut in two by a flush.
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("seen: " + sent[..12]);
                await context.Response.Body.FlushAsync();
                await context.Response.WriteAsync(sent[12..] + "\n");
                break;
            case "large":
                // Over every buffer: streamed, the credential across a 16 KiB piece and at the end.
                var large = new StringBuilder();
                large.Append('x', 16 * 1024 - 10).Append(sent).Append('\n').Append('y', 300 * 1024).Append(sent);
                await SendAsync(context, "text/plain", Encoding.UTF8.GetBytes(large.ToString()), pieces: 7);
                break;
            case "gzip":
                using (var compressed = new MemoryStream())
                {
                    using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                    {
                        gzip.Write(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { [name] = sent }));
                    }

                    context.Response.Headers.ContentEncoding = "gzip";
                    await SendAsync(context, "application/json", compressed.ToArray());
                }

                break;
            case "html":
                // An HTML page quoting it as HTML encoders write it: System.Text.Encodings.Web's
                // (hexadecimal references), decimal references, named ones.
                await SendAsync(context, "text/html", Encoding.UTF8.GetBytes(
                    $"<p>{System.Text.Encodings.Web.HtmlEncoder.Default.Encode(sent)}</p><p>{Escaped(sent, c => $"&#{(int)c};")}</p>"
                    + $"<p>{Escaped(sent, Named)}</p>"));
                break;
            case "escaped":
                // String escapes (Python's and C's \x2B), and percent-encoding applied twice.
                await SendAsync(context, "text/plain", Encoding.UTF8.GetBytes(
                    $"repr: {Escaped(sent, c => $"\\x{(int)c:X2}")}\nlogged: {Uri.EscapeDataString(Uri.EscapeDataString(sent))}\n"));
                break;
            case "binary":
                await SendAsync(context, "application/octet-stream", [0, 1, 2, .. Encoding.UTF8.GetBytes(sent), 0xff, 0xfe]);
                break;
            default:
                await SendAsync(context, "application/json", "{\"ok\":true}"u8.ToArray());
                break;
        }
    }

    private static async Task SendAsync(HttpContext context, string type, byte[] body, int pieces = 1)
    {
        context.Response.ContentType = type;
        context.Response.ContentLength = body.Length;
        var size = (body.Length + pieces - 1) / pieces;
        for (var at = 0; at < body.Length; at += size)
        {
            await context.Response.Body.WriteAsync(body.AsMemory(at, Math.Min(size, body.Length - at)));
            await context.Response.Body.FlushAsync();
        }
    }

    /// <summary>The secret with every character but letters and digits written by <paramref name="escape"/>.</summary>
    private static string Escaped(string secret, Func<char, string> escape) =>
        string.Concat(secret.Select(c => char.IsAsciiLetterOrDigit(c) ? c.ToString() : escape(c)));

    /// <summary>HTML's named references where there is one, else a decimal one.</summary>
    private static string Named(char c) => c switch
    {
        '+' => "&plus;",
        '/' => "&sol;",
        '=' => "&equals;",
        ':' => "&colon;",
        '-' => "-",
        _ => $"&#{(int)c};",
    };

    /// <summary>The forms a secret could be read back in: as it is, percent-encoded (either
    /// case, once or twice), JSON-, string- or HTML-escaped, and inside base64 at any alignment.</summary>
    private static IEnumerable<string> Probes(string secret)
    {
        yield return secret;
        yield return Uri.EscapeDataString(Uri.EscapeDataString(secret));
        yield return System.Text.Encodings.Web.HtmlEncoder.Default.Encode(secret);
        yield return Escaped(secret, c => $"&#{(int)c};");
        yield return Escaped(secret, Named);
        yield return Escaped(secret, c => $"\\x{(int)c:X2}");
        yield return Uri.EscapeDataString(secret);
        yield return System.Web.HttpUtility.UrlEncode(secret);
        yield return JsonEncodedText.Encode(secret).ToString();
        yield return secret.Replace("/", "\\/", StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(secret);
        for (var shift = 0; shift < 3; shift++)
        {
            var encoded = Convert.ToBase64String([.. new byte[shift], .. bytes]);
            // What stays the same whatever surrounds the secret: all but the first and last groups.
            yield return encoded[4..^4];
        }
    }

    private static readonly string[] AllProbes =
        [.. Probes(Token), .. Probes(BasicPassword), .. Probes($"{BasicUser}:{BasicPassword}"), .. Probes(ApiKey)];

    private static void AssertNoSecret(string text, string where)
    {
        foreach (var probe in AllProbes)
        {
            Assert.False(text.Contains(probe, StringComparison.Ordinal), $"{where} holds the upstream credential as '{probe}':\n{text}");
        }
    }

    private static string HeaderText(HttpResponseMessage response) =>
        string.Join('\n', response.Headers.Concat(response.Content.Headers).Select(h => h.Key + ": " + string.Join(", ", h.Value)));

    private async Task<(HttpResponseMessage Response, string Body)> EchoThroughAsync(string connection, string form)
    {
        var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"/{connection}/v1/echo?form={form}", _key));
        var body = Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync());
        return (response, body);
    }

    [Theory]
    [InlineData("plain", "json", true)]
    [InlineData("plain", "json-slashes", true)]
    [InlineData("plain", "text", true)]
    [InlineData("plain", "url", true)]
    [InlineData("plain", "base64", true)]
    [InlineData("plain", "split", false)]
    [InlineData("plain", "large", false)]
    [InlineData("plain", "gzip", true)]
    [InlineData("plain", "binary", true)]
    [InlineData("plain", "html", true)]
    [InlineData("plain", "escaped", true)]
    [InlineData("masked", "json", true)]
    [InlineData("masked", "json-slashes", true)]
    [InlineData("masked", "text", true)]
    [InlineData("masked", "url", true)]
    [InlineData("masked", "base64", true)]
    [InlineData("masked", "split", true)]
    [InlineData("masked", "large", false)]
    [InlineData("masked", "gzip", true)]
    [InlineData("masked", "binary", true)]
    [InlineData("masked", "html", true)]
    [InlineData("masked", "escaped", true)]
    public async Task The_injected_credential_never_comes_back_to_the_agent_or_into_the_recording(string connection, string form, bool countInHeader)
    {
        var (response, body) = await EchoThroughAsync(connection, form);
        using var _ = response;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer " + Redacted, response.Headers.GetValues("X-Echo-Authorization").Single());
        AssertNoSecret(HeaderText(response), "the response headers");
        AssertNoSecret(body, "the response body");
        Assert.Contains(Redacted, body, StringComparison.Ordinal);

        var session = await _gateway.SessionAsync(response);
        var scrubbed = (long)JsonNode.Parse(session.MaskedTypes!)!["UPSTREAM-CREDENTIAL"]!;
        Assert.True(scrubbed >= 2, $"{scrubbed} scrubbed: the header and at least one in the body");
        if (countInHeader)
        {
            Assert.Equal(session.Masked.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("Airlock-Masked").Single());
        }

        var exchange = await Eventually.GetAsync(() => _gateway.Store.GetExchangeAsync(session.Id, CancellationToken.None), what: "the exchange");
        AssertNoSecret(string.Join('\n', exchange.RequestHeaders.Concat(exchange.ResponseHeaders).Select(h => h.Key + ": " + h.Value)), "the recorded headers");
        AssertNoSecret(Encoding.Latin1.GetString(exchange.ResponseBody), "the recorded response body");
        // The recording is what the agent got (up to the recording's cap).
        Assert.Equal(body[..exchange.ResponseBody.Length], Encoding.Latin1.GetString(exchange.ResponseBody));
    }

    [Theory]
    [InlineData("basic", "text", "Authorization", "Basic " + Redacted)]
    [InlineData("basic", "url", "Authorization", "Basic " + Redacted)]
    [InlineData("keyed", "json", "X-Api-Key", Redacted)]
    [InlineData("keyed", "url", "X-Api-Key", Redacted)]
    public async Task Basic_and_header_credentials_are_scrubbed_in_their_own_forms(string connection, string form, string header, string echoed)
    {
        var (response, body) = await EchoThroughAsync(connection, form);
        using var _ = response;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(echoed, response.Headers.GetValues("X-Echo-" + header).Single());
        AssertNoSecret(HeaderText(response), "the response headers");
        AssertNoSecret(body, "the response body");
        Assert.Contains(Redacted, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_response_without_the_credential_passes_byte_for_byte_with_its_length()
    {
        _upstream.Routes["/quiet"] = context => SendAsync(context, "application/json", "{\"ok\":true}"u8.ToArray());
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/plain/v1/quiet", _key));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("{\"ok\":true}", body);
        Assert.Equal(11, response.Content.Headers.ContentLength);
        Assert.False(response.Headers.Contains("Airlock-Masked"));
        Assert.Equal(0, (await _gateway.SessionAsync(response)).Masked);
    }

    [Fact]
    public async Task An_encoding_the_gateway_cannot_decode_is_not_asked_for_and_is_blocked_if_sent()
    {
        _upstream.Routes["/zstd"] = async context =>
        {
            context.Response.Headers.ContentEncoding = "zstd";
            await SendAsync(context, "application/json", Encoding.UTF8.GetBytes("{\"seen\":\"" + context.Request.Headers.Authorization + "\"}"));
        };
        var request = TestGateway.Get("/plain/v1/zstd", _key);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "zstd, gzip");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 9);

        using var response = await _gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:airlock:problem:response-not-maskable", (string?)JsonNode.Parse(body)!["type"]);
        AssertNoSecret(body, "the problem");
        var received = _upstream.Received.Single(r => r.RawTarget == "/v1/zstd");
        Assert.Equal("identity", received.Header("Accept-Encoding"));
        Assert.Null(received.Header("Range"));
    }

    [Fact]
    public async Task An_approved_request_s_stored_result_holds_no_credential()
    {
        _upstream.Routes["/refunds"] = async context =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            context.Response.Headers["X-Echo-Authorization"] = context.Request.Headers.Authorization.ToString();
            await context.Response.WriteAsync("{\"by\":\"" + context.Request.Headers.Authorization + "\"}");
        };

        using var held = await _gateway.Proxy.SendAsync(Reviews.ApprovalTests.Post("/plain/v1/refunds", "{\"amount\":250}", _key, prefer: "wait=0"));
        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var executed = await _gateway.ReviewInStatusAsync(review.Id, Gateway.Reviews.ReviewStatus.Executed);
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{review.Id}/result", _key));
        var body = await result.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, result.StatusCode);
        Assert.Equal("{\"by\":\"Bearer " + Redacted + "\"}", body);
        AssertNoSecret(HeaderText(result), "the result's headers");
        AssertNoSecret(string.Join('\n', executed.Result!.Headers.Select(h => h.Key + ": " + h.Value)) + Encoding.UTF8.GetString(executed.Result.Body), "the stored result");
    }
}
