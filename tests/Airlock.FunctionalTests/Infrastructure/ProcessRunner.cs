using System.Diagnostics;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>Runs a helper command (initdb, pg_ctl) to completion and fails loudly.</summary>
internal static class ProcessRunner
{
    public static async Task<string> RunAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} exited {process.ExitCode}: {await stdout}{await stderr}");
        }

        return await stdout;
    }

    public static bool IsRoot => Environment.UserName == "root";
}
