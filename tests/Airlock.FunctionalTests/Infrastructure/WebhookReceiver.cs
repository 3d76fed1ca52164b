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

public sealed record Delivery(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>A real Kestrel endpoint that receives webhook deliveries, failing the first N on demand.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private int _failuresLeft;

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    public IReadOnlyList<Delivery> Deliveries => [.. _deliveries];

    /// <summary>Answer 503 to this many deliveries before accepting.</summary>
    public int FailFirst
    {
        set => _failuresLeft = value;
    }

    public int Attempts { get; private set; }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var receiver = new WebhookReceiver(builder.Build());
        receiver._app.Run(receiver.ReceiveAsync);
        await receiver._app.StartAsync();
        receiver.BaseUri = new Uri(receiver._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return receiver;
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        Attempts++;
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            context.Response.StatusCode = 503;
            return;
        }

        _deliveries.Enqueue(new Delivery(context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray()));
        context.Response.StatusCode = 204;
    }

    public Task<Delivery> DeliveryAsync(Func<Delivery, bool> match, string what) =>
        Eventually.GetAsync(() => Task.FromResult(_deliveries.FirstOrDefault(match)), TimeSpan.FromSeconds(20), what);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
