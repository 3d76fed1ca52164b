using System.CommandLine;
using Airlock.Gateway.Audit.Evidence;

namespace Airlock.Cli.Commands;

internal static partial class AuditCommand
{
    private static Command ExportCommand()
    {
        var config = ConfigOption.Create();
        var since = new Option<string?>("--since") { Description = "From this time on (ISO 8601, UTC unless it says otherwise). Default: the first event." };
        var until = new Option<string?>("--until") { Description = "Before this time. Default: up to the latest event." };
        var format = new Option<string>("--format")
        {
            Description = "jsonl: the events as canonical JSON lines (verifiable). csv: the same, plus events.csv for reading.",
            DefaultValueFactory = _ => "jsonl",
        };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var output = new Option<string?>("--out", "-o") { Description = "The bundle's directory, new or empty (default: ./audit-export-<time>)." };
        var command = new Command("export", "Write an evidence bundle: the events in a time range, the signed checkpoints among them, and a manifest of hashes.")
        {
            config, since, until, format, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (!TryParseTime(parse, since, out var from) || !TryParseTime(parse, until, out var to))
            {
                return AirlockCli.InvalidInput;
            }

            if (from is not null && to is not null && from >= to)
            {
                error.WriteLine("error: --since must be before --until");
                return AirlockCli.InvalidInput;
            }

            var directory = Path.GetFullPath(parse.GetValue(output)
                ?? $"audit-export-{TimeProvider.System.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                error.WriteLine($"error: {directory} is not empty; an export never overwrites files");
                return AirlockCli.InvalidInput;
            }

            // An export reads the store as verification does: a misspelt path or a copy without
            // its events is an error, never a new empty store and an empty bundle.
            var opened = await OpenAsync(parse, config, cancellationToken, readOnly: true);
            if (opened is null)
            {
                return AirlockCli.InvalidInput;
            }

            await using var store = opened.Value.Store;
            if (await UnverifiableAsync(store, opened.Value.StoreConfig, cancellationToken) is { } why)
            {
                error.WriteLine($"error: {Printable.Text(why)}");
                return AirlockCli.Failure;
            }

            try
            {
                var manifest = await AuditExport.WriteAsync(store, directory, from, to, parse.GetValue(format) == "csv", TimeProvider.System, cancellationToken);
                var printed = parse.InvocationConfiguration.Output;
                printed.WriteLine(manifest.Count == 0
                    ? $"No events in that range; wrote an empty bundle to {directory}."
                    : $"Exported events {manifest.FirstSeq}..{manifest.LastSeq} ({manifest.Count} events, head {manifest.HeadHash}) to {directory}.");
                foreach (var (name, hash) in manifest.Files)
                {
                    printed.WriteLine($"  {name}  {hash}");
                }

                printed.WriteLine($"Verify it offline with: airlock audit verify --file {directory} --public-key <key.pub.pem>");
                return 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: writing the bundle failed: {Printable.Text(ex.Message)}");
                return AirlockCli.Failure;
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                // A stored event that is not an audit event: the chain is broken; say where.
                error.WriteLine($"error: a stored event cannot be read ({ex.GetType().Name}); run 'airlock audit verify' to find where the trail is broken. The bundle in {directory} is incomplete.");
                return AirlockCli.Failure;
            }
        });
        return command;
    }
}
