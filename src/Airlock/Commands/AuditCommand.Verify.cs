using System.CommandLine;
using System.Globalization;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Audit.Evidence;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;

namespace Airlock.Cli.Commands;

internal static partial class AuditCommand
{
    private static Command VerifyCommand()
    {
        var config = ConfigOption.Create();
        config.Description = "The configuration naming the live store (default: $AIRLOCK_CONFIG). Not needed with --file.";
        var file = new Option<string?>("--file", "-f")
        {
            Description = "Verify an export instead of the live store: a bundle directory (with manifest.json) or an events.jsonl file.",
        };
        var checkpoint = new Option<string[]>("--checkpoint")
        {
            Description = "A checkpoint kept elsewhere (JSON, or JSON lines); repeatable. It exposes a truncated tail or a rewrite.",
            AllowMultipleArgumentsPerToken = false,
        };
        var publicKey = new Option<string?>("--public-key")
        {
            Description = "The signing key's public key (PEM; several concatenated after a rotation). Default: derived from the configured audit.signingKey.",
        };
        var command = new Command("verify", "Walk the hash chain and check every checkpoint. Reports the first broken link and exits 1 on any failure.")
        {
            config, file, checkpoint, publicKey,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var checkpoints = new List<AuditCheckpoint>();
            string? publicPem = null;
            try
            {
                foreach (var path in parse.GetValue(checkpoint) ?? [])
                {
                    checkpoints.AddRange(AuditFileVerification.ReadCheckpoints(path));
                }

                if (parse.GetValue(publicKey) is { } keyPath)
                {
                    publicPem = File.ReadAllText(keyPath);
                    if (!AuditSigner.IsKeyRing(publicPem))
                    {
                        error.WriteLine($"error: {keyPath} is not a PEM ECDSA P-256 public key (or several, one after the other)");
                        return AirlockCli.InvalidInput;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"error: {Printable.Text(ex.Message)}");
                return AirlockCli.InvalidInput;
            }

            AuditVerification result;
            if (parse.GetValue(file) is { } exported)
            {
                if (!File.Exists(exported) && !Directory.Exists(exported))
                {
                    error.WriteLine($"error: {exported} does not exist");
                    return AirlockCli.InvalidInput;
                }

                try
                {
                    result = await AuditFileVerification.VerifyAsync(exported, checkpoints, publicPem, cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or System.Text.DecoderFallbackException)
                {
                    output.WriteLine($"FAILED: {Printable.Text(ex.Message)}");
                    return AirlockCli.Failure;
                }
            }
            else
            {
                var opened = await OpenAsync(parse, config, cancellationToken, readOnly: true);
                if (opened is null)
                {
                    return AirlockCli.InvalidInput;
                }

                await using var store = opened.Value.Store;
                if (await UnverifiableAsync(store, opened.Value.StoreConfig, cancellationToken) is { } why)
                {
                    output.WriteLine($"FAILED: {Printable.Text(why)}");
                    return AirlockCli.Failure;
                }
                if (publicPem is null && opened.Value.Audit.SigningKey is { IsResolved: true } key)
                {
                    using var signer = AuditSigner.FromPrivatePem(key.Reveal(), out _);
                    publicPem = signer?.PublicPem() + "\n" + opened.Value.Audit.PreviousPublicKeys;
                    output.WriteLine($"Using the public key of the configured signing key ({signer?.KeyId}){(opened.Value.Audit.PreviousPublicKeys is null ? "" : " and audit.previousPublicKeys")}.");
                }

                checkpoints.AddRange(await store.ListAuditCheckpointsAsync(cancellationToken));
                result = await AuditStoreVerification.VerifyAsync(store, checkpoints, publicPem, cancellationToken);
            }

            return Report(output, result, publicPem is not null);
        });
        return command;
    }

    /// <summary>
    /// Why the configured store cannot be verified as it is, or null. Verification reads a store;
    /// it never creates or migrates one. So a misspelt path, an empty file, a database without
    /// Airlock's schema, or a SQLite copy made without its <c>-wal</c> file (where recent events
    /// live until SQLite checkpoints them) fails here, rather than passing as an empty trail.
    /// </summary>
    private static async Task<string?> UnverifiableAsync(IAirlockStore store, StoreConfig config, CancellationToken cancellationToken)
    {
        var sqlite = config as SqliteStoreConfig;
        var where = sqlite is null ? "the PostgreSQL database" : sqlite.Path;
        const string CopyHint = " (a copy of a SQLite store must include its -wal file, or be checkpointed before it is copied)";
        if (sqlite is not null && !File.Exists(sqlite.Path))
        {
            return $"there is no store at {sqlite.Path}; check store.sqlite in the configuration (nothing was created)";
        }

        try
        {
            var (current, latest) = await store.GetSchemaVersionAsync(cancellationToken);
            if (current == 0)
            {
                return $"{where} holds no Airlock store: it is empty, or not Airlock's{(sqlite is null ? "" : CopyHint)}";
            }

            if (current > latest)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"{where} has schema version {current}, newer than this build of Airlock knows ({latest}); verify with the Airlock that wrote it");
            }

            // Any gateway that ran on a store recorded its start there: none at all means the
            // events are elsewhere (another store, a -wal file left behind), not that none happened.
            var (count, _) = await store.GetAuditHeadAsync(cancellationToken);
            return count == 0 ? $"{where} holds no audit events; is it the store the gateway writes to?{(sqlite is null ? "" : CopyHint)}" : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The type and the driver's message, as when a store cannot be opened.
            return $"the {store.Engine} store could not be read ({ex.GetType().Name}): {ex.Message}";
        }
    }

    private static int Report(TextWriter output, AuditVerification result, bool signaturesChecked)
    {
        var last = result.FirstSeq + result.Count - 1;
        output.WriteLine(result.Count == 0
            ? "Checked 0 events."
            : string.Create(CultureInfo.InvariantCulture,
                $"Checked {result.Count:N0} events ({result.FirstSeq}..{last}) in {result.Elapsed.TotalSeconds:0.000} s ({result.EventsPerSecond:N0} events/s)."));
        foreach (var note in result.Checkpoints)
        {
            output.WriteLine($"  {note}");
        }

        if (!result.Valid)
        {
            output.WriteLine($"FAILED at event {result.Break!.Seq}: {Printable.Text(result.Break.Problem)}");
            return AirlockCli.Failure;
        }

        output.WriteLine($"Head: {result.HeadHash}");
        if (result.Checkpoints.Count == 0)
        {
            output.WriteLine("warning: no checkpoint covers these events; a rewrite of the whole chain would not be detected. Keep signed checkpoints elsewhere and pass them with --checkpoint.");
        }
        else if (!signaturesChecked)
        {
            output.WriteLine("warning: checkpoint signatures were not checked; give the signing key's public key with --public-key.");
        }

        output.WriteLine("OK: the audit trail is intact.");
        return 0;
    }
}
