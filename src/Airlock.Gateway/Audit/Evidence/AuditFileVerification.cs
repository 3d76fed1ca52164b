using System.Text;

namespace Airlock.Gateway.Audit.Evidence;

/// <summary>
/// Verifies exported evidence offline: an export bundle (a directory with manifest.json) or a
/// bare events.jsonl. Every line must be exactly an event's canonical form with its hash, so
/// an edit anywhere in a line shows up, even one that a lenient JSON reader would ignore.
/// </summary>
internal static class AuditFileVerification
{
    /// <param name="path">A bundle directory, or an events.jsonl file.</param>
    /// <param name="checkpoints">Checkpoints kept elsewhere, checked as well as the bundle's own.</param>
    /// <param name="publicPem">The signing key's public key, to check checkpoint signatures.</param>
    public static async Task<AuditVerification> VerifyAsync(string path, IEnumerable<AuditCheckpoint> checkpoints, string? publicPem,
        CancellationToken cancellationToken)
    {
        var all = new List<AuditCheckpoint>(checkpoints);
        if (!Directory.Exists(path))
        {
            return await VerifyEventsAsync(path, all, publicPem, null, cancellationToken);
        }

        var manifest = AuditExport.ReadManifest(Path.Combine(path, AuditExport.ManifestFile));
        foreach (var (name, hash) in manifest.Files)
        {
            var file = Path.Combine(path, Path.GetFileName(name));
            if (!File.Exists(file))
            {
                return Failed(manifest.FirstSeq, $"{name} is listed in the manifest but missing from the bundle");
            }

            var actual = await AuditExport.HashFileAsync(file, cancellationToken);
            if (actual != hash)
            {
                return Failed(manifest.FirstSeq, $"{name} hashes to {actual}, but the manifest says {hash}: the file was changed after export");
            }
        }

        if (!manifest.Files.ContainsKey(AuditExport.EventsFile))
        {
            return Failed(manifest.FirstSeq, $"the manifest does not list {AuditExport.EventsFile}");
        }

        var checkpointsFile = Path.Combine(path, AuditExport.CheckpointsFile);
        if (File.Exists(checkpointsFile))
        {
            all.AddRange(ReadCheckpoints(checkpointsFile));
        }

        var result = await VerifyEventsAsync(Path.Combine(path, AuditExport.EventsFile), all, publicPem, manifest, cancellationToken);
        if (result.Valid && (result.Count != manifest.Count || (manifest.Count > 0 && result.HeadHash != manifest.HeadHash)))
        {
            return result with
            {
                Valid = false,
                Break = new AuditBreak(manifest.FirstSeq + result.Count,
                    $"the bundle holds {result.Count} events ending in {result.HeadHash}, but its manifest says {manifest.Count} ending in {manifest.HeadHash}"),
            };
        }

        return result;
    }

    private static async Task<AuditVerification> VerifyEventsAsync(string file, List<AuditCheckpoint> checkpoints, string? publicPem,
        AuditExportManifest? manifest, CancellationToken cancellationToken)
    {
        AuditVerifier? verifier = manifest is { Count: > 0 }
            ? new AuditVerifier(checkpoints, publicPem, manifest.FirstSeq, manifest.PrevHash, excerpt: true)
            : manifest is not null ? new AuditVerifier(checkpoints, publicPem, excerpt: true) : null;
        var lineNumber = 0;
        using var reader = new StreamReader(file, new UTF8Encoding(false, true));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            var bytes = Encoding.UTF8.GetBytes(line);
            AuditEvent parsed;
            try
            {
                parsed = AuditChain.Parse(bytes);
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                return (verifier ?? new AuditVerifier(checkpoints, publicPem)).Complete() with
                {
                    Valid = false,
                    Break = new AuditBreak(0, $"line {lineNumber} of {Path.GetFileName(file)} is not an audit event ({ex.GetType().Name}): it was edited"),
                };
            }

            // A bare events file may start anywhere; its first prevHash is taken on trust
            // unless it starts the chain.
            verifier ??= new AuditVerifier(checkpoints, publicPem, parsed.Seq, parsed.Seq == 1 ? AuditChain.Genesis : null, excerpt: true);
            if (!AuditChain.CanonicalizeWithHash(parsed).AsSpan().SequenceEqual(bytes))
            {
                return (verifier.Complete()) with
                {
                    Valid = false,
                    Break = new AuditBreak(parsed.Seq, $"event {parsed.Seq} (line {lineNumber}) is not in its canonical form: it was edited"),
                };
            }

            var stored = new StoredAuditEvent(parsed.Seq, AuditChain.Canonicalize(parsed), parsed.Hash, parsed.PrevHash, parsed.Kind, parsed.At);
            if (!verifier.Add(stored))
            {
                break;
            }
        }

        return (verifier ?? new AuditVerifier(checkpoints, publicPem)).Complete();
    }

    /// <summary>Reads checkpoints from a file: JSON lines, or one JSON object.</summary>
    public static IReadOnlyList<AuditCheckpoint> ReadCheckpoints(string file)
    {
        var text = File.ReadAllText(file).Trim();
        if (text.Length == 0)
        {
            return [];
        }

        // One JSON object (as `airlock audit checkpoint` prints it, possibly indented), or
        // JSON lines (as an export writes them).
        string[] lines;
        try
        {
            return [AuditCheckpoint.Parse(text)];
        }
        catch (System.Text.Json.JsonException)
        {
            lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"{file} is not an Airlock audit checkpoint: {ex.Message}", ex);
        }

        var checkpoints = new List<AuditCheckpoint>();
        for (var i = 0; i < lines.Length; i++)
        {
            try
            {
                checkpoints.Add(AuditCheckpoint.Parse(lines[i]));
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                throw new FormatException($"{file}{(lines.Length > 1 ? $" line {i + 1}" : "")} is not an Airlock audit checkpoint: {ex.Message}", ex);
            }
        }

        return checkpoints;
    }

    private static AuditVerification Failed(long seq, string problem) =>
        new(false, 0, AuditChain.Genesis, seq, new AuditBreak(seq, problem), [], TimeSpan.Zero);
}
