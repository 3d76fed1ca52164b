using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Airlock.Cli.Commands;

/// <summary>
/// The admin API as the CLI calls it: the admin listener's URL and a person's OIDC access token,
/// from <c>--admin-url</c>/<c>--token</c> or <c>AIRLOCK_ADMIN_URL</c>/<c>AIRLOCK_TOKEN</c>.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    public const string UrlVariable = "AIRLOCK_ADMIN_URL";
    public const string TokenVariable = "AIRLOCK_TOKEN";

    private readonly HttpClient _http;

    private AdminClient(Uri baseUri, string token)
    {
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public static (Option<string?> Url, Option<string?> Token) Options() =>
    (
        new Option<string?>("--admin-url") { Description = $"The admin listener, e.g. http://127.0.0.1:8081 (default: ${UrlVariable})." },
        new Option<string?>("--token") { Description = $"Your OIDC access token (default: ${TokenVariable})." }
    );

    public static AdminClient? Create(ParseResult parse, Option<string?> url, Option<string?> token)
    {
        var error = parse.InvocationConfiguration.Error;
        var urlText = parse.GetValue(url) ?? Environment.GetEnvironmentVariable(UrlVariable);
        var tokenText = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrWhiteSpace(urlText) || !Uri.TryCreate(urlText, UriKind.Absolute, out var baseUri))
        {
            error.WriteLine($"error: give the admin listener's URL with --admin-url or {UrlVariable}");
            return null;
        }

        if (string.IsNullOrWhiteSpace(tokenText))
        {
            error.WriteLine($"error: give your access token with --token or {TokenVariable}");
            return null;
        }

        return new AdminClient(baseUri, tokenText.Trim());
    }

    /// <summary>Sends a request; on failure prints the problem's detail and returns null.</summary>
    public async Task<JsonNode?> SendAsync(ParseResult parse, HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: the admin API at {_http.BaseAddress} could not be reached: {ex.Message}");
            return null;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? json = null;
            try
            {
                json = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                // Reported below with the status.
            }

            if (!response.IsSuccessStatusCode)
            {
                var detail = (string?)json?["detail"] ?? text;
                parse.InvocationConfiguration.Error.WriteLine($"error: {(int)response.StatusCode} {Printable.Text(detail)}");
                return null;
            }

            return json;
        }
    }

    public void Dispose() => _http.Dispose();
}
