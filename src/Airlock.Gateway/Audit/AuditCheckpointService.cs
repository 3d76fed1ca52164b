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
public sealed partial class AuditCheckpointService(AuditConfig config, IAuditStore store, TimeProvider timeProvider, ILogger<AuditCheckpointService> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly AuditSigner? _signer = config.SigningKey is { IsResolved: true } key ? AuditSigner.FromPrivatePem(key.Reveal(), out _) : null;

    public bool Enabled => _signer is not null;

    /// <summary>The key id verifiers should expect, or null without a key.</summary>
    public string? KeyId => _signer?.KeyId;

    /// <summary>The public key (PEM) verifiers need, or null without a key.</summary>
    public string? PublicKeyPem => _signer?.PublicPem();

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
            var (count, head) = await store.GetAuditHeadAsync(cancellationToken);
            var checkpoints = await store.ListAuditCheckpointsAsync(cancellationToken);
            var latest = checkpoints.Count == 0 ? null : checkpoints[^1];
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_signer is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(config.CheckpointEvery, timeProvider);
        try
        {
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

    private async Task TryCheckpointAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CheckpointAsync(cancellationToken);
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
    }
}
