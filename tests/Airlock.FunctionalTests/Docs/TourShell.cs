using System.Diagnostics;
using System.Text;

namespace Airlock.FunctionalTests.Docs;

/// <summary>
/// One bash, as in the reader's terminal: commands run one after another in the same shell, so
/// a variable one sets (<c>KEY=$(…)</c>, <c>export …</c>) is there for the next. Standard error
/// is shown with standard output, as a terminal shows both.
/// </summary>
internal sealed class TourShell : IAsyncDisposable
{
    private readonly Process _bash;
    private readonly string _marker = "__tour_done_" + Guid.NewGuid().ToString("N");
    private readonly StringBuilder _errors = new();

    private TourShell(Process bash)
    {
        _bash = bash;
    }

    public static TourShell Start(string directory, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("bash", ["--noprofile", "--norc"])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        // The reader's shell has none of the gateway's settings.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("AIRLOCK_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var bash = Process.Start(info) ?? throw new InvalidOperationException("cannot start bash");
        var shell = new TourShell(bash);
        bash.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (shell._errors)
                {
                    shell._errors.AppendLine(e.Data);
                }
            }
        };
        bash.BeginErrorReadLine();
        return shell;
    }

    /// <summary>Runs one command (its standard input empty) and returns its exit status and output.</summary>
    public async Task<(int Exit, string Output)> RunAsync(string command, TimeSpan timeout)
    {
        await _bash.StandardInput.WriteAsync($"{{\n{command}\n}} </dev/null 2>&1\nprintf '\\n{_marker} %d\\n' \"$?\"\n");
        await _bash.StandardInput.FlushAsync();
        var output = new StringBuilder();
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            string? line;
            try
            {
                line = await _bash.StandardOutput.ReadLineAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"`{command}` did not finish within {timeout.TotalSeconds:0} s; it printed:\n{output}");
            }

            if (line is null)
            {
                lock (_errors)
                {
                    throw new InvalidOperationException($"bash exited during `{command}`: {_errors}");
                }
            }

            if (line.StartsWith(_marker, StringComparison.Ordinal))
            {
                return (int.Parse(line[(_marker.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture), output.ToString());
            }

            output.Append(line).Append('\n');
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_bash.HasExited)
        {
            _bash.Kill(entireProcessTree: true);
            await _bash.WaitForExitAsync();
        }

        _bash.Dispose();
    }
}
