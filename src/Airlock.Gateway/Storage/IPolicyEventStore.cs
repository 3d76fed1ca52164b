using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Storage;

internal interface IPolicyEventStore
{
    Task RecordPolicyLoadAsync(PolicyLoadRecord record, CancellationToken cancellationToken);

    /// <summary>The most recent loads and rejections, newest first.</summary>
    Task<IReadOnlyList<PolicyLoadRecord>> ListPolicyLoadsAsync(int limit, CancellationToken cancellationToken);
}
