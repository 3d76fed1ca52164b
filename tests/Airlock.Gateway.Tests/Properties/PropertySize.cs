using System.Globalization;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>How many cases a property runs. AIRLOCK_PROPERTY_ITERATIONS caps it, so mutation
/// testing (eng/mutation.sh), which runs the suite once per mutant, can keep properties small;
/// unset, every property runs at its full size.</summary>
internal static class PropertySize
{
    private static readonly long? Cap =
        long.TryParse(Environment.GetEnvironmentVariable("AIRLOCK_PROPERTY_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var cap) && cap > 0
            ? cap
            : null;

    public static long Iterations(long full) => Cap is { } cap ? Math.Min(full, cap) : full;

    /// <summary>
    /// The share of its full size that a costly test runs (1 when uncapped): the cap over 1,000,
    /// so <c>AIRLOCK_PROPERTY_ITERATIONS=200</c> runs a fifth. For tests that loop over generated
    /// inputs or long lines for seconds: under mutation each surviving or endlessly looping
    /// mutant pays such a test's whole time (a timeout is set from it), and a few of them made
    /// most of a full run.
    /// </summary>
    public static double Share => Cap is { } cap ? Math.Min(1.0, cap / 1000.0) : 1.0;

    /// <summary><paramref name="full"/> scaled by <see cref="Share"/>, never below <paramref name="least"/>.</summary>
    public static int Scaled(int full, int least = 1) => Math.Max(least, (int)(full * Share));

    /// <summary>
    /// <paramref name="full"/>, or <paramref name="underMutation"/> when the cap is set: for the
    /// few tests over long texts that mutation testing cannot afford at any share of their size.
    /// The build Stryker tests checks a mutant switch at every branch of the gateway, which made
    /// these tests 5 to 20 times slower than in a normal build, and every mutant of the code
    /// they reach (the detectors and the prescreen) pays their whole time.
    /// </summary>
    public static T UnderMutation<T>(T full, T underMutation) => Cap is null ? full : underMutation;
}
