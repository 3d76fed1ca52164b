using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>What the upstream received: the request exactly as it arrived on the wire.</summary>
public sealed record ReceivedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// A real Kestrel upstream on 127.0.0.1:0 that records every request it receives. Routes:
/// <c>/hang</c> never answers; <c>/gated</c> answers 201 once the test opens <see cref="Gate"/>; <c>/bytes?n=N</c> streams N bytes; <c>/spoof</c> answers with
/// headers only the gateway may set; anything else answers 200 with a small JSON body.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private int _abandoned;

    private TestUpstream(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public ReceivedRequest Only() => Assert.Single(Received);

    /// <summary>Requests to <c>/gated</c> wait until this is completed.</summary>
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many <c>/gated</c> requests their sender gave up on before the answer.</summary>
    public int Abandoned => Volatile.Read(ref _abandoned);

    /// <summary>How many requests broke off before their body ended (never in <see cref="Received"/>).</summary>
    public int Incomplete => Volatile.Read(ref _incomplete);

    private int _incomplete;

    /// <summary>How many requests have arrived (their head), whatever became of their body.</summary>
    public int Started => Volatile.Read(ref _started);

    private int _started;

    public static async Task<TestUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var upstream = new TestUpstream(builder.Build());
        upstream._app.Run(upstream.HandleAsync);
        await upstream._app.StartAsync();
        var address = upstream._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        upstream.BaseUri = new Uri(address);
        return upstream;
    }

    /// <summary>Answers a test sets up for a path (matched on its end), after the request is recorded.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, Func<HttpContext, Task>> Routes { get; } = new(StringComparer.Ordinal);

    /// <summary>How many records <c>/records</c> writes with an email and a card number: every 20th.</summary>
    public static long RecordsWithPii(long records) => (records + 19) / 20;

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path.EndsWith("/bytes", StringComparison.Ordinal))
        {
            await StreamBytesAsync(context, long.Parse(context.Request.Query["n"]!, System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        if (path.EndsWith("/records", StringComparison.Ordinal))
        {
            await StreamRecordsAsync(context, long.Parse(context.Request.Query["n"]!, System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        Interlocked.Increment(ref _started);
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            Interlocked.Increment(ref _incomplete);
            return;
        }
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _received.Enqueue(new ReceivedRequest(context.Request.Method,
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget, headers, body.ToArray()));

        foreach (var (suffix, route) in Routes)
        {
            if (path.EndsWith(suffix, StringComparison.Ordinal))
            {
                await route(context);
                return;
            }
        }

        if (path.EndsWith("/hang", StringComparison.Ordinal))
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
            return;
        }

        if (path.EndsWith("/gated", StringComparison.Ordinal))
        {
            try
            {
                await Gate.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _abandoned);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status201Created;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"refunded\":true}");
            return;
        }

        if (path.EndsWith("/spoof", StringComparison.Ordinal))
        {
            context.Response.Headers["Airlock-Session"] = "forged-by-upstream";
            context.Response.Headers["Airlock-Review"] = "forged-by-upstream";
        }

        if (path.EndsWith("/card", StringComparison.Ordinal) || path.EndsWith("/card-gzip", StringComparison.Ordinal))
        {
            var json = "{\"customer\":\"ada\",\"card\":\"4111 1111 1111 1111\"}"u8.ToArray();
            context.Response.ContentType = "application/json";
            if (path.EndsWith("-gzip", StringComparison.Ordinal))
            {
                using var compressed = new MemoryStream();
                using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(json);
                }

                json = compressed.ToArray();
                context.Response.Headers.ContentEncoding = "gzip";
            }

            await context.Response.Body.WriteAsync(json);
            return;
        }

        if (context.Request.Query["leak-header"] is { Count: 1 } leak)
        {
            context.Response.Headers["X-Leak"] = leak.ToString();
        }

        if (context.Request.Query["content-type"] is { Count: 1 } type)
        {
            context.Response.Headers.ContentType = type.ToString();
            await context.Response.WriteAsync("<p>hello</p>");
            return;
        }

        if (context.Request.Query["status"] is { Count: 1 } status)
        {
            context.Response.StatusCode = int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"ok\":true}");
    }

    private static async Task StreamBytesAsync(HttpContext context, long total)
    {
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = total;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        for (long sent = 0; sent < total;)
        {
            var n = (int)Math.Min(chunk.Length, total - sent);
            await context.Response.Body.WriteAsync(chunk.AsMemory(0, n), context.RequestAborted);
            sent += n;
        }
    }

    /// <summary>A JSON array of <paramref name="records"/> customer records, chunked, without a
    /// length: every 20th carries an email address and a card number.</summary>
    private static async Task StreamRecordsAsync(HttpContext context, long records)
    {
        context.Response.ContentType = "application/json";
        var buffer = new System.Text.StringBuilder(80 * 1024);
        buffer.Append('[');
        for (long i = 0; i < records; i++)
        {
            if (i > 0)
            {
                buffer.Append(',');
            }

            buffer.Append(System.Globalization.CultureInfo.InvariantCulture, $"{{\"id\":{i},\"name\":\"Customer {i}\",\"amount\":{i % 1000}.25,\"note\":\"renewal due, nothing to report for this account\"");
            if (i % 20 == 0)
            {
                buffer.Append(System.Globalization.CultureInfo.InvariantCulture, $",\"email\":\"user{i}@example.com\",\"card\":\"4111 1111 1111 1111\"");
            }

            buffer.Append('}');
            if (buffer.Length > 64 * 1024)
            {
                await context.Response.WriteAsync(buffer.ToString(), context.RequestAborted);
                buffer.Clear();
            }
        }

        buffer.Append(']');
        await context.Response.WriteAsync(buffer.ToString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
