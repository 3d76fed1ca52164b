using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// A real upstream written in another stack, run as a child process from tests/fixtures: an
/// express app (Node, whose body parsers honour declared charsets, busboy's multipart parser
/// too) or a WSGI app (Python's wsgiref, which reads header names CGI-style; or one that reads
/// multipart bodies with Python's email package). Each binds 127.0.0.1 on a free port and prints
/// <c>{"port":N}</c> on its first line; it is stopped by its process id.
/// </summary>
public sealed class ProcessUpstream : IAsyncDisposable
{
    private readonly Process _process;

    private ProcessUpstream(Process process, int port)
    {
        _process = process;
        BaseUri = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri BaseUri { get; }

    /// <summary>tests/fixtures/express/server.mjs: POST /{name} stores the parsed body, GET /{name} lists what was stored.</summary>
    public static Task<ProcessUpstream> ExpressAsync() => ExpressScriptAsync("server.mjs");

    /// <summary>tests/fixtures/express/differential.mjs: answers every request with what express
    /// and its JSON, urlencoded and text parsers read of it (the parser-differential suite).</summary>
    public static Task<ProcessUpstream> ExpressDifferentialAsync() => ExpressScriptAsync("differential.mjs");

    private static Task<ProcessUpstream> ExpressScriptAsync(string script)
    {
        var directory = Repository.PathOf("tests", "fixtures", "express");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "express")))
        {
            throw new InvalidOperationException($"the express upstream is not installed: run `npm ci` in {directory} (test.sh does this)");
        }

        return StartAsync("node", script, directory);
    }

    /// <summary>tests/fixtures/wsgi/echo.py: answers every request with its HTTP_* variables as JSON.</summary>
    public static Task<ProcessUpstream> WsgiAsync() => StartAsync("python3", "echo.py", Repository.PathOf("tests", "fixtures", "wsgi"));

    /// <summary>tests/fixtures/wsgi/differential.py: answers every request with what wsgiref,
    /// parse_qs and json.loads read of it (the parser-differential suite).</summary>
    public static Task<ProcessUpstream> WsgiDifferentialAsync() => StartAsync("python3", "differential.py", Repository.PathOf("tests", "fixtures", "wsgi"));

    /// <summary>tests/fixtures/wsgi/form.py: reads a multipart body as Python's email package
    /// does (each part in its own charset and transfer encoding) and answers the fields it read.</summary>
    public static Task<ProcessUpstream> MimeFormAsync() => StartAsync("python3", "form.py", Repository.PathOf("tests", "fixtures", "wsgi"));

    private static async Task<ProcessUpstream> StartAsync(string file, string script, string directory)
    {
        var info = new ProcessStartInfo(file, script)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"{file} {script} exited before it was ready");
        return new ProcessUpstream(process, JsonNode.Parse(line)!["port"]!.GetValue<int>());
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
