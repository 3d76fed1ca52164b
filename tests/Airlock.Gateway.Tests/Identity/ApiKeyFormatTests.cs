using Airlock.Gateway.Identity.ApiKeys;

namespace Airlock.Gateway.Tests.Identity;

public class ApiKeyFormatTests
{
    [Fact]
    public void A_generated_key_parses_back_and_matches_its_hash()
    {
        var (id, text, hash) = ApiKeyFormat.Generate();

        Assert.StartsWith("alk_" + id + "_", text, StringComparison.Ordinal);
        Assert.Equal(ApiKeyFormat.Length, text.Length);
        Assert.True(ApiKeyFormat.TryParse(text, out var parsedId, out var secret));
        Assert.Equal(id, parsedId);
        Assert.True(ApiKeyFormat.Matches(secret, hash));
    }

    [Fact]
    public void Two_keys_never_share_an_id_or_secret()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKeyFormat.Generate()).ToList();

        Assert.Equal(1000, keys.Select(k => k.Id).Distinct().Count());
        Assert.Equal(1000, keys.Select(k => k.Text).Distinct().Count());
    }

    [Fact]
    public void A_key_is_url_safe_text_a_shell_or_header_takes_as_it_is()
    {
        // 32 random bytes in base64url: no '+', '/' or '=' padding, whatever the bytes were.
        foreach (var (id, text, _) in Enumerable.Range(0, 1000).Select(_ => ApiKeyFormat.Generate()))
        {
            Assert.Matches("^alk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", text);
            Assert.Equal(text[4..20], id);
        }
    }

    [Fact]
    public void A_changed_secret_does_not_match()
    {
        var (_, text, hash) = ApiKeyFormat.Generate();
        var tampered = text[..^1] + (text[^1] == 'A' ? 'B' : 'A');

        Assert.True(ApiKeyFormat.TryParse(tampered, out _, out var secret));
        Assert.False(ApiKeyFormat.Matches(secret, hash));
    }

    [Theory]
    [InlineData("alk_short")]
    [InlineData("xyz_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("alk_0123456789ABCDEF_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("alk_0123456789abcdef-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("alk_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void Malformed_keys_do_not_parse(string text)
    {
        // Nothing comes out of a key that does not parse: no id to look up, no secret to hash.
        Assert.False(ApiKeyFormat.TryParse(text, out var id, out var secret));
        Assert.Equal("", id);
        Assert.True(secret.IsEmpty);
    }
}
