using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Audit.Evidence;

/// <summary>What an export wrote: the range of the chain it holds and the files' hashes.</summary>
internal sealed record AuditExportManifest(
    DateTimeOffset ExportedAt,
    DateTimeOffset? Since,
    DateTimeOffset? Until,
    long FirstSeq,
    long LastSeq,
    long Count,
    string PrevHash,
    string HeadHash,
    IReadOnlyDictionary<string, string> Files)
{
    public const string Type = "airlock-audit-export";
}

/// <summary>
/// Writes an evidence bundle: a contiguous stretch of the chain (events.jsonl, each line an
/// event's canonical form with its hash), the signed checkpoints inside that stretch
/// (checkpoints.jsonl), optionally events.csv for reading, and manifest.json naming the range
/// and the SHA-256 of every file. A bundle verifies offline with <c>airlock audit verify --file</c>
/// or any verifier written from docs/audit.md.
/// </summary>
internal static class AuditExport
{
    public const string EventsFile = "events.jsonl";
    public const string CsvFile = "events.csv";
    public const string CheckpointsFile = "checkpoints.jsonl";
    public const string ManifestFile = "manifest.json";

    /// <summary>
    /// Exports from the first event at or after <paramref name="since"/> to the last event before
    /// <paramref name="until"/>, as one unbroken run of positions: a chain can only be verified
    /// without gaps, and event times are not strictly ordered by position (appends from several
    /// replicas interleave), so an event just outside the times can sit inside the run.
    /// </summary>
    public static async Task<AuditExportManifest> WriteAsync(IAuditStore store, string directory, DateTimeOffset? since, DateTimeOffset? until,
        bool csv, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var firstSeq = 1L;
        if (since is not null)
        {
            var first = await store.QueryAuditEventsAsync(new AuditQuery(Since: since, Limit: 1), cancellationToken);
            firstSeq = first.Count == 0 ? long.MaxValue : first[0].Seq;
        }

        var eventsPath = Path.Combine(directory, EventsFile);
        var csvPath = Path.Combine(directory, CsvFile);
        long count = 0, lastSeq = firstSeq - 1;
        string prevHash = AuditChain.Genesis, headHash = AuditChain.Genesis;
        await using (var events = new FileStream(eventsPath, FileMode.CreateNew, FileAccess.Write))
        await using (var table = csv ? new FileStream(csvPath, FileMode.CreateNew, FileAccess.Write) : null)
        {
            if (table is not null)
            {
                await table.WriteAsync(AuditCsv.Header, cancellationToken);
            }

            // Kept up to the last event inside the times; what follows is cut off at the end.
            long keptEvents = 0, keptTable = table?.Position ?? 0;
            if (firstSeq != long.MaxValue)
            {
                await foreach (var stored in store.ReadAuditChainAsync(firstSeq, cancellationToken))
                {
                    var parsed = AuditChain.Parse(stored.Canonical, stored.Hash);
                    if (lastSeq == firstSeq - 1)
                    {
                        prevHash = parsed.PrevHash;
                    }

                    await events.WriteAsync(AuditChain.CanonicalizeWithHash(parsed), cancellationToken);
                    events.WriteByte((byte)'\n');
                    if (table is not null)
                    {
                        await table.WriteAsync(AuditCsv.Row(parsed), cancellationToken);
                    }

                    if (until is null || stored.At < until)
                    {
                        keptEvents = events.Position;
                        keptTable = table?.Position ?? 0;
                        count = stored.Seq - firstSeq + 1;
                        lastSeq = stored.Seq;
                        headHash = stored.Hash;
                    }
                    else if (lastSeq == firstSeq - 1)
                    {
                        // The first event in the run is already past the end: nothing to export.
                        break;
                    }
                }
            }

            events.SetLength(keptEvents);
            table?.SetLength(keptTable);
        }

        if (count == 0)
        {
            firstSeq = 0;
            lastSeq = 0;
            prevHash = AuditChain.Genesis;
        }

        var checkpointsPath = Path.Combine(directory, CheckpointsFile);
        await using (var file = new FileStream(checkpointsPath, FileMode.CreateNew, FileAccess.Write))
        {
            foreach (var checkpoint in await store.ListAuditCheckpointsAsync(cancellationToken))
            {
                if (count > 0 && checkpoint.Count >= firstSeq && checkpoint.Count <= lastSeq)
                {
                    await file.WriteAsync(checkpoint.ToJson(), cancellationToken);
                    file.WriteByte((byte)'\n');
                }
            }
        }

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [EventsFile] = await HashFileAsync(eventsPath, cancellationToken),
            [CheckpointsFile] = await HashFileAsync(checkpointsPath, cancellationToken),
        };
        if (csv)
        {
            files[CsvFile] = await HashFileAsync(csvPath, cancellationToken);
        }

        var manifest = new AuditExportManifest(timeProvider.GetUtcNow(), since, until, firstSeq, lastSeq, count, prevHash, headHash, files);
        await using (var file = new FileStream(Path.Combine(directory, ManifestFile), FileMode.CreateNew, FileAccess.Write))
        {
            await file.WriteAsync(Serialize(manifest), cancellationToken);
        }

        return manifest;
    }

    public static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }

    private static byte[] Serialize(AuditExportManifest m)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("type", AuditExportManifest.Type);
            json.WriteString("exportedAt", AuditChain.FormatTime(m.ExportedAt));
            WriteTime(json, "since", m.Since);
            WriteTime(json, "until", m.Until);
            json.WriteNumber("firstSeq", m.FirstSeq);
            json.WriteNumber("lastSeq", m.LastSeq);
            json.WriteNumber("count", m.Count);
            json.WriteString("prevHash", m.PrevHash);
            json.WriteString("headHash", m.HeadHash);
            json.WriteStartObject("files");
            foreach (var (name, hash) in m.Files)
            {
                json.WriteString(name, hash);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? at)
    {
        if (at is { } value)
        {
            json.WriteString(name, AuditChain.FormatTime(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>Reads a manifest back; throws <see cref="FormatException"/> when it is not one.</summary>
    public static AuditExportManifest ReadManifest(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = document.RootElement;
            if (r.GetProperty("type").GetString() != AuditExportManifest.Type)
            {
                throw new FormatException($"{path} is not an Airlock audit export manifest");
            }

            static DateTimeOffset? Time(JsonElement e) => e.ValueKind == JsonValueKind.String
                ? DateTimeOffset.Parse(e.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
                : null;
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var f in r.GetProperty("files").EnumerateObject())
            {
                files[f.Name] = f.Value.GetString() ?? "";
            }

            return new AuditExportManifest(Time(r.GetProperty("exportedAt")) ?? default, Time(r.GetProperty("since")), Time(r.GetProperty("until")),
                r.GetProperty("firstSeq").GetInt64(), r.GetProperty("lastSeq").GetInt64(), r.GetProperty("count").GetInt64(),
                r.GetProperty("prevHash").GetString()!, r.GetProperty("headHash").GetString()!, files);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"{path} is not a readable export manifest: {ex.Message}", ex);
        }
    }
}
