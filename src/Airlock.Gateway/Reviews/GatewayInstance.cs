namespace Airlock.Gateway.Reviews;

/// <summary>
/// This gateway process, as other replicas see it in the store: held requests and executions
/// are marked with its id, and its heartbeat tells whether it is still alive.
/// </summary>
internal sealed class GatewayInstance
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
}
