using System.CommandLine;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Airlock.Cli.Commands;

/// <summary>
/// <c>airlock audit keygen|checkpoint|verify|export</c>: the signing key, signed checkpoints,
/// verification of the chain (live or exported) and evidence bundles.
/// </summary>
internal static partial class AuditCommand
{
    public static Command Create()
    {
        var audit = new Command("audit", "Verify and export the tamper-evident audit trail; manage its signing key and checkpoints.");
        audit.Subcommands.Add(KeygenCommand());
        audit.Subcommands.Add(CheckpointCommand());
        audit.Subcommands.Add(VerifyCommand());
        audit.Subcommands.Add(ExportCommand());
        return audit;
    }

    private static Command KeygenCommand()
    {
        var output = new Option<string>("--out", "-o")
        {
            Description = "Where to write the private key (PEM, readable by its owner only). The public key goes beside it as <name>.pub.pem.",
            Required = true,
        };
        var command = new Command("keygen", "Create a checkpoint signing key (ECDSA P-256). Give the private key to the gateway as audit.signingKey; give the public key to whoever verifies.")
        {
            output,
        };
        command.SetAction(parse =>
        {
            var privatePath = Path.GetFullPath(parse.GetValue(output)!);
            var publicPath = PublicKeyPath(privatePath);
            var error = parse.InvocationConfiguration.Error;
            if (File.Exists(privatePath) || File.Exists(publicPath))
            {
                error.WriteLine($"error: {(File.Exists(privatePath) ? privatePath : publicPath)} exists; a signing key is never overwritten");
                return AirlockCli.InvalidInput;
            }

            var (privatePem, publicPem) = AuditSigner.Generate();
            try
            {
                // Created with owner-only permissions from the start, never widened afterwards.
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var file = new StreamWriter(privatePath, options))
                {
                    file.Write(privatePem);
                }

                using var publicFile = new StreamWriter(publicPath, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write });
                publicFile.Write(publicPem);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: cannot write the key: {ex.Message}");
                return AirlockCli.Failure;
            }

            using var signer = AuditSigner.FromPrivatePem(privatePem, out _)!;
            parse.InvocationConfiguration.Output.WriteLine($"Wrote the private key to {privatePath} and the public key to {publicPath}.");
            parse.InvocationConfiguration.Output.WriteLine($"Key id: {signer.KeyId}");
            // The form the configuration loader takes: a secret by reference, { file: path }.
            parse.InvocationConfiguration.Output.WriteLine($"Configure it with:  audit: {{ signingKey: {{ file: {YamlQuoted(privatePath)} }} }}");
            return 0;
        });
        return command;
    }

    private static Command CheckpointCommand()
    {
        var config = ConfigOption.Create();
        var command = new Command("checkpoint", "Sign the chain's head now with the configured key, store the checkpoint, and print it (keep a copy elsewhere).")
        {
            config,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var opened = await OpenAsync(parse, config, cancellationToken);
            if (opened is null)
            {
                return AirlockCli.InvalidInput;
            }

            await using var store = opened.Value.Store;
            if (opened.Value.Audit.SigningKey is null)
            {
                parse.InvocationConfiguration.Error.WriteLine("error: the configuration has no audit.signingKey; create one with 'airlock audit keygen'");
                return AirlockCli.InvalidInput;
            }

            using var service = new AuditCheckpointService(opened.Value.Audit, store, TimeProvider.System, NullLogger<AuditCheckpointService>.Instance);
            try
            {
                var checkpoint = await service.CheckpointAsync(cancellationToken);
                if (checkpoint is null)
                {
                    var checkpoints = await store.ListAuditCheckpointsAsync(cancellationToken);
                    if (checkpoints.Count == 0)
                    {
                        parse.InvocationConfiguration.Error.WriteLine("error: the audit trail is empty; there is nothing to sign");
                        return AirlockCli.Failure;
                    }

                    parse.InvocationConfiguration.Error.WriteLine("Nothing was recorded since the latest checkpoint; it is:");
                    checkpoint = checkpoints[^1];
                }

                parse.InvocationConfiguration.Output.WriteLine(System.Text.Encoding.UTF8.GetString(checkpoint.ToJson()));
                return 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: signing a checkpoint failed ({ex.GetType().Name}): {Printable.Text(ex.Message)}");
                return AirlockCli.Failure;
            }
        });
        return command;
    }

    /// <summary>A path as a YAML double-quoted scalar, so a space, '#' or ':' in it stays part of it.</summary>
    private static string YamlQuoted(string path) => "\"" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    internal static string PublicKeyPath(string privatePath)
    {
        var directory = Path.GetDirectoryName(privatePath)!;
        var name = Path.GetFileName(privatePath);
        var stem = name.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) ? name[..^4] : name;
        return Path.Combine(directory, stem + ".pub.pem");
    }

    /// <summary>Opens the store and reads the audit section; null after printing why not.</summary>
    /// <param name="readOnly">Open the store as it is, for reading: nothing created, no migration.</param>
    private static async Task<(IAirlockStore Store, StoreConfig StoreConfig, AuditConfig Audit)?> OpenAsync(ParseResult parse, Option<string?> option,
        CancellationToken cancellationToken, bool readOnly = false)
    {
        var path = ConfigOption.Resolve(parse, option);
        if (path is null)
        {
            return null;
        }

        var (storeConfig, auditConfig, errors) = ConfigLoader.LoadAuditFile(path);
        if (storeConfig is null || auditConfig is null)
        {
            foreach (var error in errors)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {error}");
            }

            return null;
        }

        if (readOnly)
        {
            return (StoreFactory.CreateReadOnly(storeConfig, TimeProvider.System), storeConfig, auditConfig);
        }

        var store = await ConfigOption.OpenStoreAsync(parse, storeConfig, cancellationToken);
        return store is null ? null : (store, storeConfig, auditConfig);
    }

    /// <summary>A time given as ISO 8601 (a date, or a date and time); UTC unless it says otherwise.</summary>
    private static bool TryParseTime(ParseResult parse, Option<string?> option, out DateTimeOffset? value)
    {
        value = null;
        if (parse.GetValue(option) is not { } text)
        {
            return true;
        }

        if (IsoTime.TryParse(text, out var parsed))
        {
            value = parsed;
            return true;
        }

        parse.InvocationConfiguration.Error.WriteLine($"error: {option.Name} '{Printable.Text(text)}' is not a time; give ISO 8601, e.g. 2026-11-01 or 2026-11-01T09:00:00Z");
        return false;
    }
}
