using System.Diagnostics;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Cli;

/// <summary>
/// eng/build-if-changed.sh, which ./airlock and run.sh call before every start: it must build
/// when a source changed (a stale binary would run old code) and skip MSBuild otherwise. Run on
/// a one-file project in a checkout of its own, with the real <c>dotnet build</c>.
/// </summary>
public sealed class BuildIfChangedTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("airlock-build-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temporary directory is cleaned by the system.
        }
    }

    [Fact]
    public async Task It_builds_the_first_time_skips_msbuild_while_nothing_changed_and_builds_again_after_a_change()
    {
        Directory.CreateDirectory(Path.Combine(_root, "eng"));
        File.Copy(Repository.PathOf("eng", "build-if-changed.sh"), Path.Combine(_root, "eng", "build-if-changed.sh"));
        var project = Path.Combine(_root, "src", "Tiny");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "Tiny.csproj"),
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>");
        var program = Path.Combine(project, "Program.cs");
        await File.WriteAllTextAsync(program, "System.Console.WriteLine(\"first\");");

        var first = await BuildAsync();
        var second = await BuildAsync();
        await File.WriteAllTextAsync(program, "System.Console.WriteLine(\"second\");");
        var third = await BuildAsync();

        Assert.Contains("Building src/Tiny/Tiny.csproj (the first build takes about a minute)", first, StringComparison.Ordinal);
        Assert.Equal("", second);
        Assert.Contains("Building src/Tiny/Tiny.csproj: something it is built from changed since its last build", third, StringComparison.Ordinal);
        Assert.Equal("second\n", await ProcessRunner.RunAsync("dotnet", [Path.Combine(project, "bin", "Release", "net10.0", "Tiny.dll")]));
    }

    /// <summary>Runs the script and returns what it told the person (its standard error).</summary>
    private async Task<string> BuildAsync()
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(_root, "eng", "build-if-changed.sh"), "src/Tiny/Tiny.csproj"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No MSBuild nodes or compiler server left behind by the test.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start eng/build-if-changed.sh");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"eng/build-if-changed.sh exited {process.ExitCode}:\n{await stderr}");
        Assert.Equal("", await stdout);
        return await stderr;
    }
}
