namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// Servers shared by every test in the run, started once on first use and stopped when the
/// test process exits: two OIDC providers (one the gateway trusts, one it does not) and a
/// PostgreSQL server.
/// </summary>
public static class TestServices
{
    private static readonly Lazy<Task<OidcProvider>> TrustedIdp = new(OidcProvider.StartAsync);
    private static readonly Lazy<Task<OidcProvider>> UntrustedIdp = new(OidcProvider.StartAsync);
    private static readonly Lazy<Task<PostgresServer>> PostgresServer = new(Infrastructure.PostgresServer.StartAsync);

    static TestServices()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var started in new Lazy<Task<OidcProvider>>[] { TrustedIdp, UntrustedIdp })
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

    public static Task<PostgresServer> Postgres => PostgresServer.Value;
}
