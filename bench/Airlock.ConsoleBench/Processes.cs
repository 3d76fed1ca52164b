using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Airlock.Benchmarks.Console;

/// <summary>A child process the bench starts and ends: the gateway (<c>airlock serve</c>) or the
/// people's OIDC provider (node).</summary>
internal sealed class Child : IDisposable
{
    private readonly Process _process;

    private Child(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Starts <paramref name="info"/> and returns it with the first stdout line for which
    /// <paramref name="ready"/> gives a value; the rest of its output is read and dropped.</summary>
    public static async Task<(Child Child, string Value)> StartAsync(ProcessStartInfo info, Func<string, string?> ready)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {info.FileName}");
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token)) is not null)
        {
            if (ready(line) is { } value)
            {
                _ = Task.Run(async () => { while (await process.StandardOutput.ReadLineAsync() is not null) { } });
                return (new Child(process), value);
            }
        }

        lock (errors)
        {
            throw new InvalidOperationException($"{info.FileName} exited before it was ready:\n{errors}");
        }
    }

    /// <summary>The people's OIDC provider of the functional tests (tests/fixtures/oidc): the
    /// authorization code flow with its development login form, and dynamic client registration.</summary>
    public static async Task<(Child Child, string Issuer)> StartProviderAsync(string repository, IReadOnlyDictionary<string, string[]> people)
    {
        var directory = Path.Combine(repository, "tests", "fixtures", "oidc");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"the OIDC provider is not installed: run `npm ci` in {directory}");
        }

        var info = new ProcessStartInfo("node", "provider.mjs") { WorkingDirectory = directory };
        info.Environment["AIRLOCK_TEST_PEOPLE"] = System.Text.Json.JsonSerializer.Serialize(people);
        info.Environment["AIRLOCK_TEST_REGISTRATION"] = "1";
        return await StartAsync(info, line => JsonNode.Parse(line)?["issuer"]?.GetValue<string>());
    }

    /// <summary>Processor time used so far (user + system), from /proc.</summary>
    public TimeSpan Cpu()
    {
        var stat = File.ReadAllText($"/proc/{Id}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of the line (11 and 12 after the name), in clock ticks.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Resident set size, from /proc.</summary>
    public long Rss()
    {
        foreach (var line in File.ReadLines($"/proc/{Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
