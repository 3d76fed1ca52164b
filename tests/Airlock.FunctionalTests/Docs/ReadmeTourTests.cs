using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Docs;

/// <summary>
/// The README's tour, run as a newcomer runs it: the quick-start (the sample billing API,
/// <c>airlock serve</c> with the quick-start configuration, the demo identity provider of
/// idp.sh), then every <c>$ command</c> of the README's console blocks in one shell, each
/// output compared with the one the README shows by shape (<see cref="OutputShape"/>). The
/// README is the script: change it, and this runs the new version.
/// </summary>
/// <remarks>
/// The quick-start's fixed ports (8080, 8081, 9090, 9400) would collide with other tests and
/// with a quick-start the developer runs: the copy runs on free ports, commands are sent the
/// free ones, and outputs are read back with the README's.
/// </remarks>
public sealed partial class ReadmeTourTests(ChromiumFixture chromium) : IAsyncLifetime, IClassFixture<ChromiumFixture>
{
    private static readonly string[] TourPorts = ["8080", "8081", "9090", "9400"];

    private readonly string _root = Directory.CreateTempSubdirectory("airlock-readme-").FullName;
    private readonly Dictionary<string, string> _ports = [];
    private readonly List<Process> _processes = [];
    private GatewayProcess? _gateway;

    private string QuickStart => Path.Combine(_root, "samples", "quickstart");

    public async Task InitializeAsync()
    {
        // xUnit does not dispose a class whose initialisation failed: stop what was started.
        try
        {
            await StartQuickStartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartQuickStartAsync()
    {
        foreach (var port in TourPorts)
        {
            _ports[port] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        }

        // The checkout the README's commands expect, in a temporary directory: ./airlock, the
        // quick-start's files (on the free ports), and the demo IdP's npm package.
        Directory.CreateDirectory(QuickStart);
        foreach (var file in new[] { "airlock.yaml", "policy.yaml", "token.sh", "idp.sh" })
        {
            var text = ToRun(await File.ReadAllTextAsync(Repository.PathOf("samples", "quickstart", file)));
            if (file == "idp.sh")
            {
                Assert.Contains("AIRLOCK_TEST_PORT=9400", text, StringComparison.Ordinal);
                text = text.Replace("AIRLOCK_TEST_PORT=9400", "AIRLOCK_TEST_PORT=" + _ports["9400"], StringComparison.Ordinal);
            }

            await WriteExecutableAsync(Path.Combine(QuickStart, file), text);
        }

        Directory.CreateDirectory(Path.Combine(_root, "tests", "fixtures"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "tests", "fixtures", "oidc"), Repository.PathOf("tests", "fixtures", "oidc"));
        var airlock = Path.Combine(_root, "airlock");
        await WriteExecutableAsync(airlock, $"#!/usr/bin/env bash\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "airlock.dll")}' \"$@\"\n");

        // What run.sh does, with run.sh's own settings: a signing key, the billing API, the gateway.
        var environment = RunShDefaults();
        await ProcessRunner.RunAsync(airlock, ["audit", "keygen", "--out", Path.Combine(QuickStart, "audit-key.pem")]);
        var billing = Start("dotnet", [BillingDll(), "--urls", $"http://127.0.0.1:{_ports["9090"]}"], environment);
        _ = billing.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient();
        await Eventually.GetAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{_ports["9090"]}/v1/whoami"));
                return "up";
            }
            catch (HttpRequestException) when (!billing.HasExited)
            {
                return null;
            }
        }, TimeSpan.FromSeconds(60), "the billing API to listen");
        _gateway = await GatewayProcess.StartAsync(Path.Combine(QuickStart, "airlock.yaml"), environment);

        // ./samples/quickstart/idp.sh in the README's third terminal; ready when it prints its issuer.
        var idp = Start(Path.Combine(QuickStart, "idp.sh"), [], new Dictionary<string, string>());
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var issuer = await idp.StandardOutput.ReadLineAsync(ready.Token);
        Assert.Equal($"{{\"issuer\":\"http://127.0.0.1:{_ports["9400"]}\"}}", issuer);
        _ = idp.StandardOutput.ReadToEndAsync();
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

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
    public async Task Every_command_of_the_readme_prints_what_the_readme_shows()
    {
        var commands = ConsoleBlocks.Read(await File.ReadAllTextAsync(Repository.PathOf("README.md")));
        Assert.True(commands.Count >= 20, $"the README's tour has {commands.Count} commands; the parser lost some");
        var shape = new OutputShape();
        var differences = new List<string>();
        // The whole run, every command with what it printed, to fix the README from after a change.
        var transcript = new System.Text.StringBuilder();
        await using var shell = TourShell.Start(_root, new Dictionary<string, string>());
        await using var store = OpenStore();
        foreach (var step in commands)
        {
            var command = ToRun(shape.Command(step.Command));
            var (exit, output) = await shell.RunAsync(command, TimeSpan.FromSeconds(60));
            output = FromRun(output);
            var matched = shape.Matches(step.Output, output, out var difference);

            // Sessions are written by a background writer a moment after their answer: a reader
            // never notices, a script might. Reading them again changes nothing.
            if (!matched && exit == 0 && step.Command.StartsWith("./airlock sessions ", StringComparison.Ordinal))
            {
                await Eventually.TrueWithinAsync(async () =>
                {
                    (exit, output) = await shell.RunAsync(command, TimeSpan.FromSeconds(60));
                    output = FromRun(output);
                    matched = shape.Matches(step.Output, output, out difference);
                    return matched || exit != 0;
                }, TimeSpan.FromSeconds(15));
            }

            transcript.Append(CultureInfo.InvariantCulture, $"$ {FromRun(command)}\n{output.TrimEnd()}\n\n");
            if (exit != 0 || !matched)
            {
                differences.Add($"README.md:{step.Line}: $ {step.Command}\n  {(exit != 0 ? $"exited {exit}; " : "")}{difference}\n  --- it printed:\n{output.TrimEnd()}");
                shape.BindInOrder(step.Output, output);
            }

            // An approved request runs in the background; the README's next step reads its answer.
            if (ApprovedReview().Match(output) is { Success: true } approved)
            {
                var id = Guid.Parse(approved.Groups["id"].Value);
                await Eventually.GetAsync(async () => await store.GetReviewAsync(id, CancellationToken.None) is { Status: ReviewStatus.Executed } review ? review : null,
                    TimeSpan.FromSeconds(30), $"review {id} to be executed");
            }
        }

        var written = Path.Combine(AppContext.BaseDirectory, "readme-tour.txt");
        await File.WriteAllTextAsync(written, transcript.ToString());
        Assert.True(differences.Count == 0,
            $"{differences.Count} of the README's {commands.Count} commands print something else than it shows (the whole run is in {written}):\n\n{string.Join("\n\n", differences)}");

        // The console the tour opens: the demo IdP signs alice in, step 4's refund (still held)
        // is in her inbox, and she approves it there (the first of two approvals).
        var console = $"http://127.0.0.1:{_ports["8081"]}/";
        await using var browser = await chromium.NewContextAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(console);
        await page.WaitForURLAsync(url => url.StartsWith($"http://127.0.0.1:{_ports["9400"]}/", StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", "alice");
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        try
        {
            // The gateway here is a child process, cold: its first sign-in (token, userinfo) may be slow.
            // Back at the console is enough (Commit): the inbox is awaited below, and waiting for the
            // page's load event as well once timed out on a loaded inbox on a busy machine.
            await page.WaitForURLAsync(url => url == console, new() { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"signing in to the quick-start's console ended at {page.Url}:\n{await page.InnerTextAsync("body")}");
        }

        var held = page.Locator("#inbox li.review");
        await Assertions.Expect(held).ToHaveCountAsync(1);
        await Assertions.Expect(held).ToContainTextAsync("POST /billing/v1/refunds");
        await held.Locator("a.line").ClickAsync();
        await page.ClickAsync("#approve");
        await Assertions.Expect(page.Locator(".notice-ok")).ToHaveTextAsync("Your approval is recorded: 1 of 2.");
    }

    /// <summary>The README's text with the free ports in place of the quick-start's.</summary>
    private string ToRun(string text) =>
        _ports.Aggregate(text, (t, port) => t.Replace($"127.0.0.1:{port.Key}", $"127.0.0.1:{port.Value}", StringComparison.Ordinal));

    /// <summary>A command's output with the quick-start's ports in place of the free ones.</summary>
    private string FromRun(string text) =>
        _ports.Aggregate(text, (t, port) => t.Replace($"127.0.0.1:{port.Value}", $"127.0.0.1:{port.Key}", StringComparison.Ordinal));

    /// <summary>The variables run.sh sets when they are not set already (BILLING_API_TOKEN, MASKING_HASH_KEY).</summary>
    private static Dictionary<string, string> RunShDefaults()
    {
        var runSh = File.ReadAllText(Repository.PathOf("samples", "quickstart", "run.sh"));
        var defaults = RunShDefault().Matches(runSh).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value);
        Assert.Contains("BILLING_API_TOKEN", defaults.Keys);
        Assert.Contains("MASKING_HASH_KEY", defaults.Keys);
        return defaults;
    }

    private static async Task WriteExecutableAsync(string path, string text)
    {
        await File.WriteAllTextAsync(path, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    private static string BillingDll()
    {
        var configuration = typeof(ReadmeTourTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var path = Repository.PathOf("samples", "Billing", "bin", configuration, "net10.0", "Billing.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is not built: build the solution first (test.sh does)");
    }

    private IAirlockStore OpenStore()
    {
        var (config, errors) = ConfigLoader.LoadStoreFile(Path.Combine(QuickStart, "airlock.yaml"));
        Assert.True(config is not null, string.Join("\n", errors));
        return StoreFactory.Create(config, TimeProvider.System);
    }

    private Process Start(string file, string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = _root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        // Drained, so that it never blocks on a full pipe (callers drain standard output).
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    [GeneratedRegex(@"export (?<name>[A-Z_]+)=""\$\{\k<name>:-(?<value>[^}]*)\}""")]
    private static partial Regex RunShDefault();

    [GeneratedRegex(@"Review (?<id>[0-9a-f-]{36}) is now approved")]
    private static partial Regex ApprovedReview();
}
