using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Audit;

/// <summary>
/// Signs the chain's head now and then. A signed checkpoint is what makes a rewrite detectable:
/// someone with write access to the store can recompute every hash after an edit, but cannot
/// forge the signature over the head hash that a verifier holds. Without a configured key the
/// service does nothing (the gateway warned at start).
/// </summary>
/// <remarks>
/// Before it signs, it checks that the chain still holds what was vouched for: the stored chain
/// from the latest checkpoint on must link up to the head, that checkpoint's head hash must
/// still be its event's, and the last event this process appended must still hash as it was
/// sealed. Otherwise it refuses (<see cref="AuditChainBrokenException"/>): signing whatever head
/// the database shows would endorse a rewrite.
/// </remarks>
internal sealed partial class AuditCheckpointService(AuditConfig config, IAuditStore store, TimeProvider timeProvider, ILogger<AuditCheckpointService> logger,
    AuditWriter? writer = null)
    : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly AuditSigner? _signer = config.SigningKey is { IsResolved: true } key ? AuditSigner.FromPrivatePem(key.Reveal(), out _) : null;

    public bool Enabled => _signer is not null;

    /// <summary>The key id verifiers should expect, or null without a key.</summary>
    public string? KeyId => _signer?.KeyId;

    /// <summary>The public key (PEM) verifiers need, or null without a key.</summary>
    public string? PublicKeyPem => _signer?.PublicPem();

    /// <summary>Every public key checkpoints may be signed with: the current one and those from
    /// before a rotation (PEM blocks one after the other); null when there is none.</summary>
    public string? VerificationKeys => (PublicKeyPem + "\n" + config.PreviousPublicKeys).Trim() is { Length: > 0 } keys ? keys : null;

    /// <summary>Signs the current head unless the latest checkpoint already covers it.</summary>
    /// <returns>The new checkpoint, or null when nothing was added since the last one.</returns>
    public async Task<AuditCheckpoint?> CheckpointAsync(CancellationToken cancellationToken)
    {
        if (_signer is null)
        {
            throw new InvalidOperationException("no audit signing key is configured");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var (count, head, latest) = await CheckContinuityAsync(cancellationToken);
            if (count == 0 || (latest is not null && latest.Count >= count))
            {
                return null;
            }

            var checkpoint = _signer.Sign(count, head, timeProvider.GetUtcNow());
            await store.AddAuditCheckpointAsync(checkpoint, cancellationToken);
            Log.Signed(logger, count, head);
            return checkpoint;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The chain's head and latest checkpoint, once the chain is found to continue what
    /// was signed and written; otherwise a critical log line and <see cref="AuditChainBrokenException"/>.
    /// Called under the gate.</summary>
    private async Task<(long Count, string Head, AuditCheckpoint? Latest)> CheckContinuityAsync(CancellationToken cancellationToken)
    {
        var (count, head) = await store.GetAuditHeadAsync(cancellationToken);
        var checkpoints = await store.ListAuditCheckpointsAsync(cancellationToken);
        var latest = checkpoints.Count == 0 ? null : checkpoints[^1];
        if (await ContinuityProblemAsync(latest, count, cancellationToken) is { } problem)
        {
            Log.Refused(logger, problem);
            throw new AuditChainBrokenException(problem);
        }

        return (count, head, latest);
    }

    /// <summary>Why the stored chain is not a continuation of what was signed and written; null when it is.</summary>
    private async Task<string?> ContinuityProblemAsync(AuditCheckpoint? latest, long count, CancellationToken cancellationToken)
    {
        if (latest is not null && count < latest.Count)
        {
            return $"the chain holds {count} events, but the checkpoint signed at {AuditChain.FormatTime(latest.At)} vouches for {latest.Count}: the tail was truncated";
        }

        var mine = writer?.LastAppended;
        var from = latest?.Count ?? 1;
        // The latest checkpoint's signature is checked when this key made it (after a rotation,
        // its head hash still is).
        var verifier = latest is null
            ? new AuditVerifier([], null)
            : new AuditVerifier([latest], VerificationKeys, from, prevHash: null);
        string? myHash = null;
        await foreach (var stored in store.ReadAuditChainAsync(from, cancellationToken))
        {
            if (mine is not null && stored.Seq == mine.Seq)
            {
                myHash = stored.Hash;
            }

            if (!verifier.Add(stored))
            {
                break;
            }
        }

        var result = verifier.Complete();
        if (!result.Valid)
        {
            return result.Break!.Problem;
        }

        if (mine is not null && mine.Seq >= from && myHash != mine.Hash)
        {
            return myHash is null
                ? $"event {mine.Seq}, appended by this gateway, is no longer in the chain"
                : $"event {mine.Seq} was appended by this gateway with hash {mine.Hash}, but the chain now holds {myHash} there: it was rewritten";
        }

        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_signer is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(config.CheckpointEvery, timeProvider);
        try
        {
            // At start: a chain changed while the gateway was down is reported at once.
            await CheckAtStartAsync(stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryCheckpointAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_signer is not null)
        {
            // Anchor what this run wrote; events after this point are the request drain's.
            await TryCheckpointAsync(cancellationToken);
        }
    }

    private async Task CheckAtStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                await CheckContinuityAsync(cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (AuditChainBrokenException)
        {
            // Logged as critical where it was found.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(logger, ex);
        }
    }

    private async Task TryCheckpointAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CheckpointAsync(cancellationToken);
        }
        catch (AuditChainBrokenException)
        {
            // Logged as critical where it was found; the next interval checks again.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(logger, ex);
        }
    }

    public override void Dispose()
    {
        _signer?.Dispose();
        _gate.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(6101, LogLevel.Information, "Signed an audit checkpoint at event {Count} ({HeadHash})")]
        public static partial void Signed(ILogger logger, long count, string headHash);

        [LoggerMessage(6102, LogLevel.Error, "Signing an audit checkpoint failed; will try again at the next interval")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(6103, LogLevel.Critical, "Refusing to sign an audit checkpoint: the stored audit trail is not what was signed and written: {Problem}")]
        public static partial void Refused(ILogger logger, string problem);
    }
}
