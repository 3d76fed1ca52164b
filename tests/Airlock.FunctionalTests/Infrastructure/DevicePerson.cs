using System.Net;
using System.Text.RegularExpressions;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// A person finishing a device sign-in (RFC 8628) on the test OIDC provider's own pages, as a
/// browser would: each page is an HTML form, posted with the fields it holds and the cookies the
/// provider set. The pages: the link's code (submitted by the page's script in a browser), the
/// confirmation that shows the code, the development login form, and consent.
/// </summary>
internal sealed partial class DevicePerson(string name) : IDisposable
{
    private readonly HttpClient _browser = new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true });

    /// <summary>Opens the link <c>airlock login</c> printed, checks the page shows the code, signs in and consents.</summary>
    public async Task SignInAsync(Uri verificationUriComplete, string userCode)
    {
        var confirm = await ConfirmationPageAsync(verificationUriComplete, userCode);
        var login = await SubmitAsync(confirm, new() { ["confirm"] = "yes" });
        Assert.Contains("name=\"login\"", login, StringComparison.Ordinal);
        var consent = await SubmitAsync(login, new() { ["login"] = name, ["password"] = "any" });
        Assert.Contains("value=\"consent\"", consent, StringComparison.Ordinal);
        var done = await SubmitAsync(consent, []);
        Assert.Contains("Sign-in Success", done, StringComparison.Ordinal);
    }

    /// <summary>Opens the link and presses the confirmation page's abort button.</summary>
    public async Task DeclineAsync(Uri verificationUriComplete, string userCode)
    {
        var confirm = await ConfirmationPageAsync(verificationUriComplete, userCode);
        var aborted = await SubmitAsync(confirm, new() { ["abort"] = "yes" }, without: "confirm");
        Assert.Contains("interrupted", aborted, StringComparison.Ordinal);
    }

    private async Task<string> ConfirmationPageAsync(Uri verificationUriComplete, string userCode)
    {
        var link = await _browser.GetStringAsync(verificationUriComplete);
        var confirm = await SubmitAsync(link, []);
        Assert.Contains($"<code>{userCode}</code>", confirm, StringComparison.Ordinal);
        return confirm;
    }

    /// <summary>Posts the page's first form: its hidden fields, with <paramref name="fields"/> set.</summary>
    private async Task<string> SubmitAsync(string page, Dictionary<string, string> fields, string? without = null)
    {
        var form = FormPattern().Match(page);
        Assert.True(form.Success, "no form on the page:\n" + page);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match hidden in HiddenPattern().Matches(form.Groups["body"].Value))
        {
            values[WebUtility.HtmlDecode(hidden.Groups["name"].Value)] = WebUtility.HtmlDecode(hidden.Groups["value"].Value);
        }

        if (without is not null)
        {
            values.Remove(without);
        }

        foreach (var (key, value) in fields)
        {
            values[key] = value;
        }

        using var response = await _browser.PostAsync(WebUtility.HtmlDecode(form.Groups["action"].Value), new FormUrlEncodedContent(values));
        return await response.Content.ReadAsStringAsync();
    }

    public void Dispose() => _browser.Dispose();

    [GeneratedRegex("""<form[^>]*action="(?<action>[^"]+)"[^>]*>(?<body>.*?)</form>""", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)"/>""")]
    private static partial Regex HiddenPattern();
}
