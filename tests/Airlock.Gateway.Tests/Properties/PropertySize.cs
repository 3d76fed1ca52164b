using System.Globalization;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>How many cases a property runs. AIRLOCK_PROPERTY_ITERATIONS caps it, so mutation
/// testing (eng/mutation.sh), which runs the suite once per mutant, can keep properties small;
/// unset, every property runs at its full size.</summary>
internal static class PropertySize
{
    public static long Iterations(long full) =>
        long.TryParse(Environment.GetEnvironmentVariable("AIRLOCK_PROPERTY_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var cap) && cap > 0
            ? Math.Min(full, cap)
            : full;
}
