using System.Diagnostics;

namespace Airlock.Gateway.Audit;

/// <summary>The first place the chain is broken: the event number and what is wrong there.</summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record AuditBreak(long Seq, string Problem);

/// <summary>The outcome of walking the chain.</summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record AuditVerification(bool Valid, long Count, string HeadHash, long FirstSeq, AuditBreak? Break,
    IReadOnlyList<string> Checkpoints, TimeSpan Elapsed)
{
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Count / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Walks the chain in order and checks every link: positions follow on without gaps, each
/// event is stored in canonical form, hashes to its stored hash, and names the previous event's
/// hash. Checkpoints are then checked: a valid signature (with the public key given), and the
/// chain's hash at the checkpoint's count equal to the signed head hash. It reports the first
/// broken link, precisely, and stops there.
/// </summary>
internal sealed class AuditVerifier
{
    private readonly List<AuditCheckpoint> _checkpoints;
    private readonly Dictionary<long, string> _hashesAtCheckpoints = [];
    private readonly string? _publicPem;
    private readonly bool _excerpt;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _expected;
    private string _prevHash;
    private long _count;
    private AuditBreak? _break;

    /// <param name="firstSeq">Where the walk starts (1 for a whole chain; an export may start later).</param>
    /// <param name="prevHash">The hash before the first event: the genesis for a whole chain. For
    /// a partial export, null takes the first event's prevHash on trust.</param>
    /// <param name="excerpt">True for an export that may end before the chain does: a checkpoint
    /// past its last event is noted as not checked instead of meaning the tail was cut off.</param>
    public AuditVerifier(IEnumerable<AuditCheckpoint> checkpoints, string? publicPem, long firstSeq = 1, string? prevHash = AuditChain.Genesis, bool excerpt = false)
    {
        _excerpt = excerpt;
        // The same checkpoint can come twice (the store's copy and one kept elsewhere).
        _checkpoints = [.. checkpoints.DistinctBy(c => (c.Count, c.HeadHash, c.Signature)).OrderBy(c => c.Count)];
        _publicPem = publicPem;
        _expected = firstSeq;
        FirstSeq = firstSeq;
        _prevHash = prevHash ?? "";
        TrustFirstPrevHash = prevHash is null;
        foreach (var c in _checkpoints)
        {
            _hashesAtCheckpoints[c.Count] = "";
        }
    }

    public long FirstSeq { get; }

    private bool TrustFirstPrevHash { get; set; }

    /// <summary>What can be checked of one stored event on its own, in any order and on any
    /// thread: it hashes to its recorded hash, it is an audit event in exactly its canonical
    /// form, and the members the links need.</summary>
    public readonly record struct EventCheck(string? Problem, long Seq, string PrevHash, string Kind, string At, string? Actor, string? Connection);

    public static EventCheck Inspect(StoredAuditEvent stored)
    {
        var computed = AuditChain.HashOf(stored.Canonical);
        if (computed != stored.Hash)
        {
            return new EventCheck(Diagnose(stored, computed), 0, "", "", "", null, null);
        }

        AuditEvent parsed;
        try
        {
            parsed = AuditChain.Parse(stored.Canonical, stored.Hash);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            return new EventCheck($"event {stored.Seq} is not a readable audit event ({ex.GetType().Name}): it was edited", 0, "", "", "", null, null);
        }

        // Its own hash matches, but a verifier written from docs/audit.md re-serialises: bytes
        // that are not the canonical form would be read differently there.
        if (!AuditChain.Canonicalize(parsed).AsSpan().SequenceEqual(stored.Canonical))
        {
            return new EventCheck($"event {stored.Seq} is not in its canonical form (an extra, missing or reformatted member): it was edited", 0, "", "", "", null, null);
        }

        return new EventCheck(null, parsed.Seq, parsed.PrevHash, parsed.Kind, AuditChain.FormatTime(parsed.At), parsed.Actor?.Subject, parsed.Target?.Connection);
    }

    /// <summary>Checks the next event; false once the chain is broken (stop feeding it).</summary>
    public bool Add(StoredAuditEvent stored) => Add(stored, Inspect(stored));

    /// <summary>Checks the next event, inspected already (<see cref="Inspect"/>, perhaps in parallel).</summary>
    public bool Add(StoredAuditEvent stored, EventCheck check)
    {
        if (_break is not null)
        {
            return false;
        }

        if (stored.Seq != _expected)
        {
            return Fail(_expected, stored.Seq > _expected
                ? $"event {_expected} is missing: the chain goes from event {_expected - 1} to event {stored.Seq} (removed or reordered)"
                : $"event {stored.Seq} appears again after event {_expected - 1} (inserted or reordered)");
        }

        if (check.Problem is { } problem)
        {
            return Fail(stored.Seq, problem);
        }

        var (seq, prevHash, kind, at) = (check.Seq, check.PrevHash, check.Kind, check.At);
        if (seq != stored.Seq)
        {
            return Fail(stored.Seq, $"event {stored.Seq} holds the content of event {seq} (an event was inserted or removed before it, or events were reordered)");
        }

        if (TrustFirstPrevHash)
        {
            _prevHash = prevHash;
            TrustFirstPrevHash = false;
        }

        if (prevHash != _prevHash)
        {
            return Fail(stored.Seq, stored.Seq == 1
                ? $"event 1 does not start the chain: its prevHash is {prevHash}, not the genesis hash"
                : $"event {stored.Seq} does not follow event {stored.Seq - 1}: it names prevHash {prevHash}, but event {stored.Seq - 1} hashes to {_prevHash} (an event was changed, removed, inserted or reordered)");
        }

        if (stored.Kind != kind || AuditChain.FormatTime(stored.At) != at || stored.PrevHash != prevHash
            || (stored.Columns is { } columns
                && (columns.Actor != SearchColumns.Normalize(check.Actor) || columns.Connection != SearchColumns.Normalize(check.Connection))))
        {
            return Fail(stored.Seq, $"event {stored.Seq}'s searchable columns (kind, time, actor, connection, prevHash) differ from its hashed content: they were edited");
        }

        if (_hashesAtCheckpoints.ContainsKey(stored.Seq))
        {
            _hashesAtCheckpoints[stored.Seq] = stored.Hash;
        }

        _prevHash = stored.Hash;
        _expected++;
        _count++;
        return true;
    }

    /// <summary>Says why an event's bytes do not hash to its recorded hash.</summary>
    private static string Diagnose(StoredAuditEvent stored, string computed)
    {
        AuditEvent parsed;
        try
        {
            parsed = AuditChain.Parse(stored.Canonical, stored.Hash);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            return $"event {stored.Seq} is not a readable audit event ({ex.GetType().Name}): it was edited";
        }

        if (!AuditChain.Canonicalize(parsed).AsSpan().SequenceEqual(stored.Canonical))
        {
            return $"event {stored.Seq} is not in its canonical form: it was edited";
        }

        return $"event {stored.Seq} was changed: its content hashes to {computed}, but its recorded hash is {stored.Hash}";
    }

    private bool Fail(long seq, string problem)
    {
        _break = new AuditBreak(seq, problem);
        return false;
    }

    /// <summary>Finishes the walk: checks the checkpoints against what was seen.</summary>
    public AuditVerification Complete()
    {
        var notes = new List<string>();
        foreach (var checkpoint in _checkpoints)
        {
            if (_break is not null)
            {
                break;
            }

            if (_publicPem is not null && AuditSigner.Verify(checkpoint, _publicPem) is { } badSignature)
            {
                _break = new AuditBreak(checkpoint.Count, $"checkpoint at event {checkpoint.Count}: {badSignature}");
                break;
            }

            var lastSeq = _expected - 1;
            if (checkpoint.Count > lastSeq && _excerpt)
            {
                notes.Add($"checkpoint at event {checkpoint.Count}: after this export's last event; not checked");
                continue;
            }

            if (checkpoint.Count > lastSeq)
            {
                _break = new AuditBreak(lastSeq + 1,
                    $"the chain ends at event {lastSeq}, but a checkpoint signed at {AuditChain.FormatTime(checkpoint.At)} vouches for {checkpoint.Count} events: the tail was truncated");
                break;
            }

            if (checkpoint.Count < FirstSeq)
            {
                notes.Add($"checkpoint at event {checkpoint.Count}: before this export's first event; not checked");
                continue;
            }

            if (_hashesAtCheckpoints[checkpoint.Count] != checkpoint.HeadHash)
            {
                _break = new AuditBreak(checkpoint.Count,
                    $"event {checkpoint.Count} hashes to {_hashesAtCheckpoints[checkpoint.Count]}, but the checkpoint signed at {AuditChain.FormatTime(checkpoint.At)} says {checkpoint.HeadHash}: the chain was rewritten");
                break;
            }

            notes.Add($"checkpoint at event {checkpoint.Count}: {(_publicPem is null ? "head hash matches (signature not checked: no public key given)" : "signature valid, head hash matches")}");
        }

        _clock.Stop();
        return new AuditVerification(_break is null, _count, _prevHash, FirstSeq, _break, notes, _clock.Elapsed);
    }
}
