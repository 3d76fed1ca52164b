using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.Benchmarks.Approvals;

/// <summary>A Kestrel upstream that notes the moment each request arrives.</summary>
internal sealed class Upstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private TaskCompletionSource<long>? _next;

    private Upstream(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    public static async Task<Upstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var upstream = new Upstream(builder.Build());
        upstream._app.Run(async context =>
        {
            upstream._next?.TrySetResult(Stopwatch.GetTimestamp());
            await context.Response.WriteAsync("{\"ok\":true}");
        });
        await upstream._app.StartAsync();
        upstream.BaseUri = new Uri(upstream._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return upstream;
    }

    /// <summary>The timestamp at which the next request arrives.</summary>
    public Task<long> Expect()
    {
        _next = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _next.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
