using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Airlock.Benchmarks.Console;

/// <summary>
/// A person at the console without a browser: an <see cref="HttpClient"/> with a cookie jar that
/// signs in as a browser does (the console sends it to the provider, it fills the provider's
/// login form, the provider sends it back with a code, the console sets its session cookie), then
/// reads pages and posts their forms with the hidden fields they carry (antiforgery token, request
/// hash). Nothing is faked on the gateway's side: it sees an ordinary signed-in person.
/// </summary>
internal sealed partial class Person : IDisposable
{
    private readonly CookieContainer _cookies = new();
    private readonly HttpClient _following;

    public Person(Uri console)
    {
        Console = console;
        _following = new HttpClient(new SocketsHttpHandler { CookieContainer = _cookies, AllowAutoRedirect = true }) { BaseAddress = console };
        // Pages, fragments and forms as the browser sends them; no redirects followed, so a
        // sign-in page never passes for the page asked for.
        Pages = new HttpClient(new SocketsHttpHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { BaseAddress = console };
        Streams = new HttpClient(new SocketsHttpHandler { CookieContainer = _cookies, AllowAutoRedirect = false, MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = console,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Console { get; }

    public HttpClient Pages { get; }

    /// <summary>For the live-update streams (one connection each).</summary>
    public HttpClient Streams { get; }

    /// <summary>Registers the console at the provider (RFC 7591), as the tests' fixture does.</summary>
    public static async Task<(string Id, string Secret)> RegisterConsoleAsync(string issuer, Uri console)
    {
        using var http = new HttpClient();
        var root = console.GetLeftPart(UriPartial.Authority);
        using var response = await http.PostAsJsonAsync(issuer + "/reg", new Dictionary<string, object>
        {
            ["redirect_uris"] = new[] { root + "/signin-oidc" },
            ["post_logout_redirect_uris"] = new[] { root + "/signout-callback-oidc" },
            ["grant_types"] = (string[])["authorization_code"],
            ["response_types"] = (string[])["code"],
            ["client_name"] = "Airlock console (bench)",
        });
        var client = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        response.EnsureSuccessStatusCode();
        return ((string)client["client_id"]!, (string)client["client_secret"]!);
    }

    /// <summary>Opens the console signed out, lands on the provider's login form, signs in as
    /// <paramref name="name"/> and comes back to the inbox.</summary>
    public async Task SignInAsync(string name)
    {
        using var login = await _following.GetAsync("/");
        var page = await login.Content.ReadAsStringAsync();
        var form = FormPattern().Match(page);
        if (!form.Success || !page.Contains("name=\"login\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"expected the provider's login form, got {(int)login.StatusCode} at {login.RequestMessage?.RequestUri}");
        }

        var action = new Uri(login.RequestMessage!.RequestUri!, WebUtility.HtmlDecode(form.Groups["action"].Value));
        var fields = Hidden(form.Groups["body"].Value);
        fields["login"] = name;
        fields["password"] = "any password";
        using var back = await _following.PostAsync(action, new FormUrlEncodedContent(fields));
        if (back.StatusCode != HttpStatusCode.OK || back.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Authority) != Console.GetLeftPart(UriPartial.Authority))
        {
            throw new InvalidOperationException($"sign-in did not come back to the console: {(int)back.StatusCode} at {back.RequestMessage?.RequestUri}");
        }
    }

    /// <summary>A page, read whole; throws unless it is a 200 (not a sign-in redirect).</summary>
    public async Task<string> PageAsync(string path)
    {
        using var response = await Pages.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK ? body : throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode}");
    }

    /// <summary>The hidden fields and action of the page's form with class <paramref name="formClass"/>.</summary>
    public static (string Action, Dictionary<string, string> Fields) Form(string page, string formClass)
    {
        foreach (Match form in FormPattern().Matches(page))
        {
            if (!form.Groups["open"].Value.Contains($"class=\"{formClass}\"", StringComparison.Ordinal))
            {
                continue;
            }

            return (WebUtility.HtmlDecode(form.Groups["action"].Value), Hidden(form.Groups["body"].Value));
        }

        throw new InvalidOperationException($"no form of class {formClass} on the page");
    }

    private static Dictionary<string, string> Hidden(string form)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match input in HiddenPattern().Matches(form))
        {
            var tag = input.Value;
            fields[WebUtility.HtmlDecode(NamePattern().Match(tag).Groups[1].Value)] = WebUtility.HtmlDecode(ValuePattern().Match(tag).Groups[1].Value);
        }

        return fields;
    }

    public void Dispose()
    {
        _following.Dispose();
        Pages.Dispose();
        Streams.Dispose();
    }

    [GeneratedRegex("""<form(?<open>[^>]*action="(?<action>[^"]+)"[^>]*)>(?<body>.*?)</form>""", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("""<input[^>]*type="hidden"[^>]*>""")]
    private static partial Regex HiddenPattern();

    [GeneratedRegex("""name="([^"]*)""")]
    private static partial Regex NamePattern();

    [GeneratedRegex("""value="([^"]*)""")]
    private static partial Regex ValuePattern();
}
