using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Airlock.Cli.Login;

namespace Airlock.Cli.Commands;

/// <summary>
/// The admin API as the CLI calls it: the admin listener's URL and a person's OIDC access token,
/// from <c>--admin-url</c>/<c>--token</c> or <c>AIRLOCK_ADMIN_URL</c>/<c>AIRLOCK_TOKEN</c>, or else
/// from the profile <c>airlock login</c> saved (renewed with its refresh token when expired).
/// </summary>
internal sealed class AdminClient : IDisposable
{
    public const string UrlVariable = "AIRLOCK_ADMIN_URL";
    public const string TokenVariable = "AIRLOCK_TOKEN";

    private readonly HttpClient _http;
    private readonly string? _token;
    private readonly ProfileSession? _session;

    private AdminClient(Uri baseUri, string? token, ProfileSession? session)
    {
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        _token = token;
        _session = session;
    }

    public static (Option<string?> Url, Option<string?> Token) Options() =>
    (
        new Option<string?>("--admin-url") { Description = $"The admin listener, e.g. http://127.0.0.1:8081 (default: ${UrlVariable}, else the one you signed in to with `airlock login`)." },
        new Option<string?>("--token") { Description = $"Your OIDC access token (default: ${TokenVariable}, else the sign-in `airlock login` saved)." }
    );

    public static AdminClient? Create(ParseResult parse, Option<string?> url, Option<string?> token)
    {
        var error = parse.InvocationConfiguration.Error;
        var urlText = parse.GetValue(url) ?? Environment.GetEnvironmentVariable(UrlVariable);
        var tokenText = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable);
        Uri? baseUri = null;
        if (!string.IsNullOrWhiteSpace(urlText) && !Uri.TryCreate(urlText, UriKind.Absolute, out baseUri))
        {
            error.WriteLine($"error: '{Printable.Text(urlText)}' is not a URL; give the admin listener's URL with --admin-url or {UrlVariable}");
            return null;
        }

        // A token given explicitly wins over the profile.
        if (!string.IsNullOrWhiteSpace(tokenText))
        {
            if (baseUri is null)
            {
                error.WriteLine($"error: give the admin listener's URL with --admin-url or {UrlVariable}");
                return null;
            }

            return new AdminClient(baseUri, tokenText.Trim(), null);
        }

        var file = ProfileFile.FromEnvironment();
        Profile? profile;
        try
        {
            profile = file.Read(error);
        }
        catch (ProfileException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return null;
        }

        if (profile is null)
        {
            error.WriteLine(baseUri is null
                ? $"error: give the admin listener's URL with --admin-url or {UrlVariable} and your access token with --token or {TokenVariable}, or sign in first with `airlock login --admin-url URL`"
                : $"error: give your access token with --token or {TokenVariable}, or sign in first with `airlock login --admin-url {baseUri}`");
            return null;
        }

        // The profile's tokens go only to the gateway they were saved for.
        if (baseUri is not null && !profile.IsFor(baseUri))
        {
            error.WriteLine($"error: you are signed in to {profile.AdminUrl}, not {baseUri}: run `airlock login --admin-url {baseUri}`, or give --token");
            return null;
        }

        return new AdminClient(profile.AdminUrl, null, new ProfileSession(file, profile, TimeProvider.System, error));
    }

    /// <summary>Sends a request; on failure prints the problem's detail and returns null.</summary>
    public async Task<JsonNode?> SendAsync(ParseResult parse, HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        var bearer = _token ?? await _session!.AccessTokenAsync(null, cancellationToken);
        if (bearer is null)
        {
            return null;
        }

        var response = await SendOnceAsync(error, method, path, body, bearer, cancellationToken);
        if (response?.StatusCode == HttpStatusCode.Unauthorized && _session is not null)
        {
            // Refused before anything happened: renew the saved sign-in once and ask again.
            response.Dispose();
            bearer = await _session.AccessTokenAsync(bearer, cancellationToken);
            if (bearer is null)
            {
                return null;
            }

            response = await SendOnceAsync(error, method, path, body, bearer, cancellationToken);
        }

        if (response is null)
        {
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
                error.WriteLine($"error: {(int)response.StatusCode} {Printable.Text(detail)}");
                if (response.StatusCode == HttpStatusCode.Unauthorized && _session is not null)
                {
                    error.WriteLine($"Your saved sign-in to {_session.AdminUrl} was refused: run `airlock login` again.");
                }

                return null;
            }

            return json;
        }
    }

    private async Task<HttpResponseMessage?> SendOnceAsync(TextWriter error, HttpMethod method, string path, JsonNode? body, string bearer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        }

        try
        {
            return await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            error.WriteLine($"error: the admin API at {_http.BaseAddress} could not be reached: {ex.Message}");
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
