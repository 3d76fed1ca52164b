namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// Servers shared by every test in the run, started once on first use and stopped when the
/// test process exits: three OIDC providers (one the gateway trusts, one it does not, one people
/// sign in to in a browser) and a PostgreSQL server.
/// </summary>
public static class TestServices
{
    private static readonly Lazy<Task<OidcProvider>> TrustedIdp = new(OidcProvider.StartAsync);
    private static readonly Lazy<Task<OidcProvider>> UntrustedIdp = new(OidcProvider.StartAsync);
    private static readonly Lazy<Task<OidcProvider>> PeopleIdp = new(() => OidcProvider.StartAsync(people: true));
    private static readonly Lazy<Task<PostgresServer>> PostgresServer = new(Infrastructure.PostgresServer.StartAsync);

    static TestServices()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var started in new Lazy<Task<OidcProvider>>[] { TrustedIdp, UntrustedIdp, PeopleIdp })
            {
                if (started.IsValueCreated && started.Value.IsCompletedSuccessfully)
                {
                    started.Value.Result.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }

            if (PostgresServer.IsValueCreated && PostgresServer.Value.IsCompletedSuccessfully)
            {
                PostgresServer.Value.Result.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        };
    }

    public static Task<OidcProvider> Idp => TrustedIdp.Value;

    public static Task<OidcProvider> OtherIdp => UntrustedIdp.Value;

    /// <summary>A provider people sign in to with its login form (the console's browser tests).</summary>
    public static Task<OidcProvider> ConsoleIdp => PeopleIdp.Value;

    public static Task<PostgresServer> Postgres => PostgresServer.Value;
}
