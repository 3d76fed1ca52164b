namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// Waits for a condition with a deadline: for effects the gateway produces after the response
/// (session rows written by the background writer). Never a bare sleep.
/// </summary>
internal static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null, string? what = null)
        where T : class
    {
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"timed out waiting for {what ?? "a condition"}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Like <see cref="GetAsync{T}"/>, but answers false at the deadline instead of
    /// throwing: for a caller that reports what it saw last.</summary>
    public static async Task<bool> TrueWithinAsync(Func<Task<bool>> probe, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await probe())
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
