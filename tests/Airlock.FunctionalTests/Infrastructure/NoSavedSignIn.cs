using System.Runtime.CompilerServices;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// The CLI verbs the tests run in-process (and the commands child processes run) read the
/// sign-in `airlock login` saved when no token is given: point them at a profile that does not
/// exist, so a developer's own sign-in never changes what a test sees.
/// </summary>
internal static class NoSavedSignIn
{
#pragma warning disable CA2255 // A test assembly's own start-up, not a library's.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() =>
        Environment.SetEnvironmentVariable("AIRLOCK_PROFILE", Path.Combine(Path.GetTempPath(), $"airlock-tests-{Environment.ProcessId}", "no-profile.json"));
}
