using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Airlock.LoadTargets;

/// <summary>
/// The floor of Airlock's stack: Kestrel and YARP's forwarder with the same kind of pooled
/// HttpMessageInvoker Airlock uses, and no authentication, policy, recording or audit.
/// </summary>
internal static class BareYarp
{
    public static async Task RunAsync(int port, Uri upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        });
        app.MapForwarder("/{**path}", upstream.ToString(), ForwarderRequestConfig.Empty, HttpTransformer.Empty, invoker);
        await app.StartAsync();
        Console.WriteLine($"listening on {app.Urls.First()}");
        await app.WaitForShutdownAsync();
    }
}
