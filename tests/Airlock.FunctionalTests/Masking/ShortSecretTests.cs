using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Masking;

/// <summary>
/// A credential secret too short to scrub safely is worth a word at startup, and no more: the
/// gateway starts, and the warning names the connection without the secret.
/// </summary>
public sealed class ShortSecretTests
{
    private const string ShortToken = "k3y+9";
    private const string ShortPassword = "pw/42";

    [Fact]
    public async Task A_secret_shorter_than_eight_characters_is_warned_about_at_startup_without_stopping_the_gateway()
    {
        var directory = Directory.CreateTempSubdirectory("airlock-short-secret-").FullName;
        try
        {
            var unused = new Uri("http://127.0.0.1:9");
            var config = new GatewayConfig()
                .Connection("short", unused, "    credential: { type: bearer, secret: { env: SHORT_TOKEN } }")
                .Connection("pair", unused, "    credential: { type: basic, username: svc-billing, secret: { env: SHORT_PASSWORD } }")
                .Connection("long", unused);
            config.Environment["SHORT_TOKEN"] = ShortToken;
            config.Environment["SHORT_PASSWORD"] = ShortPassword;
            var configPath = Path.Combine(directory, "airlock.yaml");
            await File.WriteAllTextAsync(configPath, config.ToYaml());
            await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), config.Policy);

            await using var gateway = await GatewayProcess.StartAsync(configPath, config.Environment);

            // Standard error is read apart from the output that says it listens: wait for it.
            var errors = await Eventually.GetAsync(
                () => Task.FromResult(gateway.ErrorLines() is var lines && lines.Any(l => l.Contains("policy.yaml", StringComparison.Ordinal)) ? lines : null),
                what: "the startup warnings, the policy's last");
            var warnings = string.Join('\n', errors);
            Assert.Contains(errors, l => l.StartsWith("warning:", StringComparison.Ordinal) && l.Contains("connections.short.credential.secret", StringComparison.Ordinal)
                && l.Contains("shorter than 8 characters", StringComparison.Ordinal));
            Assert.Contains(errors, l => l.StartsWith("warning:", StringComparison.Ordinal) && l.Contains("connections.pair.credential.secret", StringComparison.Ordinal)
                && l.Contains("password alone", StringComparison.Ordinal));
            Assert.DoesNotContain("connections.long.credential", warnings, StringComparison.Ordinal);
            Assert.DoesNotContain(ShortToken, warnings, StringComparison.Ordinal);
            Assert.DoesNotContain(ShortPassword, warnings, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
