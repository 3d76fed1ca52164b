namespace Airlock.Gateway.Reviews;

/// <summary>
/// Where a review stands. It starts <see cref="Pending"/>; a person decides (or time does):
/// <c>approved</c>, <c>denied</c>, <c>expired</c>, <c>cancelled</c>. An approved review is then
/// executed exactly once: <c>executing</c>, then <c>executed</c> with its result, or
/// <c>execution-unknown</c> when the gateway stopped mid-way and cannot know whether the upstream
/// acted. An execution-unknown review is never run again by itself.
/// </summary>
internal static class ReviewStatus
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";
    public const string Executing = "executing";
    public const string Executed = "executed";
    public const string ExecutionUnknown = "execution-unknown";

    public static readonly IReadOnlyList<string> All = [Pending, Approved, Denied, Expired, Cancelled, Executing, Executed, ExecutionUnknown];

    /// <summary>True once a person approved it, whatever became of the execution.</summary>
    public static bool WasApproved(string status) => status is Approved or Executing or Executed or ExecutionUnknown;
}
