using System.Collections.Immutable;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// The whole gateway configuration, loaded from one file, validated as a whole, immutable.
/// Secrets in it are already resolved from their references and never print themselves.
/// </summary>
internal sealed record AirlockConfig
{
    /// <summary>The absolute path of the file this configuration was read from.</summary>
    public required string SourcePath { get; init; }

    /// <summary><c>sha256:</c> + hex SHA-256 of the file's text (UTF-8) as loaded: recorded when the
    /// gateway starts, so a configuration change between runs shows in the audit trail.</summary>
    public string ContentHash { get; init; } = "";

    public required ListenersConfig Listeners { get; init; }

    public required StoreConfig Store { get; init; }

    public required IdentityConfig Identity { get; init; }

    /// <summary>Connections in the order the file declares them.</summary>
    public required ImmutableArray<ConnectionConfig> Connections { get; init; }

    public required PolicyConfig Policy { get; init; }

    public AdminConfig Admin { get; init; } = AdminConfig.Nobody;

    public ReviewsConfig Reviews { get; init; } = ReviewsConfig.Default;

    public AuditConfig Audit { get; init; } = AuditConfig.Default;

    public RecordingQueueConfig RecordingQueue { get; init; } = RecordingQueueConfig.Default;

    /// <summary>How many requests one caller (by subject) may make, across connections; null: no limit.</summary>
    public RateLimit? PerIdentityRateLimit { get; init; }

    /// <summary>Where traces go (<c>telemetry.traces</c>); null: the gateway records no traces.</summary>
    public TracesConfig? Traces { get; init; }

    /// <summary>The approver's console (<c>console</c>); null: the console is off.</summary>
    public ConsoleConfig? Console { get; init; }
}
