using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// The gateway as its own process, started the way an operator starts it:
/// <c>airlock serve --config file</c>. For tests that measure the process (memory) or kill it.
/// </summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private readonly List<string> _errors;

    private GatewayProcess(Process process, Uri proxy, Uri admin, List<string> errors)
    {
        _process = process;
        _errors = errors;
        ProxyUri = proxy;
        AdminUri = admin;
    }

    public Uri ProxyUri { get; }

    public Uri AdminUri { get; }

    public int Pid => _process.Id;

    public static async Task<GatewayProcess> StartAsync(string configPath, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "airlock.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(configPath);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start the gateway");
        var errors = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Add(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();

        Uri? proxy = null;
        Uri? admin = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (proxy is null || admin is null)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                await process.WaitForExitAsync(timeout.Token);
                lock (errors)
                {
                    throw new InvalidOperationException($"the gateway exited ({process.ExitCode}) before listening:\n{string.Join('\n', errors)}");
                }
            }

            if (ListeningLine().Match(line) is { Success: true } match)
            {
                var uri = new Uri(match.Groups["url"].Value);
                if (match.Groups["listener"].Value == "proxy")
                {
                    proxy = uri;
                }
                else
                {
                    admin = uri;
                }
            }
        }

        // Keep draining stdout so the child never blocks on a full pipe.
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is not null)
            {
            }
        });
        return new GatewayProcess(process, proxy, admin, errors);
    }

    /// <summary>What the gateway wrote to standard error so far, a line each (its startup
    /// warnings come before it listens).</summary>
    public IReadOnlyList<string> ErrorLines()
    {
        lock (_errors)
        {
            return [.. _errors];
        }
    }

    /// <summary>The process's peak resident set size so far (VmHWM), in bytes.</summary>
    public long PeakResidentBytes() => ReadStatusKilobytes("VmHWM") * 1024;

    public long ResidentBytes() => ReadStatusKilobytes("VmRSS") * 1024;

    private long ReadStatusKilobytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{field} not found in /proc/{_process.Id}/status");
    }

    /// <summary>Kills the gateway and everything it started, as a crash or <c>kill -9</c> would.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex("^Airlock (?<listener>proxy|admin) listening on (?<url>http://\\S+)$")]
    private static partial Regex ListeningLine();
}
