using System.CommandLine;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;

namespace Airlock.Cli.Commands;

/// <summary>The <c>--config</c> option every verb shares, defaulting to <c>$AIRLOCK_CONFIG</c>.</summary>
internal static class ConfigOption
{
    public const string EnvironmentVariable = "AIRLOCK_CONFIG";

    public static Option<string?> Create() => new("--config", "-c")
    {
        Description = $"The configuration file (default: ${EnvironmentVariable}).",
    };

    public static string? Resolve(ParseResult parse, Option<string?> option)
    {
        var path = parse.GetValue(option) ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(path))
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: give the configuration file with --config or set {EnvironmentVariable}");
            return null;
        }

        return path;
    }

    /// <summary>Opens the store the configuration names, applying migrations; null after
    /// printing every error when it cannot.</summary>
    public static async Task<IAirlockStore?> OpenStoreAsync(ParseResult parse, Option<string?> option, CancellationToken cancellationToken)
    {
        var path = Resolve(parse, option);
        if (path is null)
        {
            return null;
        }

        var (storeConfig, errors) = ConfigLoader.LoadStoreFile(path);
        if (storeConfig is null)
        {
            foreach (var error in errors)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {error}");
            }

            return null;
        }

        return await OpenStoreAsync(parse, storeConfig, cancellationToken);
    }

    /// <summary>Opens a store, applying migrations; null after printing why when it cannot.</summary>
    public static async Task<IAirlockStore?> OpenStoreAsync(ParseResult parse, StoreConfig storeConfig, CancellationToken cancellationToken)
    {
        IAirlockStore? store = null;
        try
        {
            store = StoreFactory.Create(storeConfig, TimeProvider.System);
            await store.MigrateAsync(cancellationToken);
            return store;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The type, not the message: a driver's message can quote the connection string.
            parse.InvocationConfiguration.Error.WriteLine($"error: the {storeConfig.Engine} store could not be opened ({ex.GetType().Name}): {Printable.Text(ex.Message)}");
            if (store is not null)
            {
                await store.DisposeAsync();
            }

            return null;
        }
    }
}
