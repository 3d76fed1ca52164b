using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// <c>airlock</c> run as a person runs it: a child process with the environment the test gives
/// (none of the test process's AIRLOCK_* settings), its output readable line by line while it runs.
/// </summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private CliProcess(Process process) => _process = process;

    public static CliProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "airlock.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("AIRLOCK_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                cli._lines.Writer.TryComplete();
                return;
            }

            lock (cli._out)
            {
                cli._out.AppendLine(e.Data);
            }

            cli._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (cli._err)
            {
                cli._err.AppendLine(e.Data);
            }
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    public static async Task<(int Exit, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        await using var cli = Start(environment, arguments);
        return await cli.ExitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>The first line of standard output, from here on, that <paramref name="match"/> accepts.</summary>
    public async Task<string> LineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Reported below with what was printed.
        }

        throw new TimeoutException($"airlock printed no such line; stdout:\n{Out}\nstderr:\n{Err}");
    }

    public async Task<(int Exit, string Out, string Err)> ExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return (_process.ExitCode, Out, Err);
    }

    public string Out
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    public string Err
    {
        get
        {
            lock (_err)
            {
                return _err.ToString();
            }
        }
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
}
