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
}
