namespace Airlock.Gateway.Configuration;

/// <summary>
/// What a connection's exchanges keep beyond the session's metadata: the request's and the
/// response's headers and bodies (as the agent saw them, capped), and for how long.
/// </summary>
/// <param name="Bodies">False: metadata only (the session, never headers or bodies).</param>
/// <param name="MaxBodyBytes">The most of each body kept; the rest is marked truncated.</param>
/// <param name="RetentionDays">After this, headers and bodies are deleted; the session stays.</param>
internal sealed record RecordingConfig(bool Bodies, long MaxBodyBytes, int RetentionDays)
{
    public static RecordingConfig Default { get; } = new(true, 64 * 1024, 30);
}
