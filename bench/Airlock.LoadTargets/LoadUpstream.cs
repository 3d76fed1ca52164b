using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.LoadTargets;

/// <summary>
/// The upstream under load: fixed replies built once, so that the upstream costs the same for
/// every target and what differs between rows is the proxy.
/// </summary>
internal static class LoadUpstream
{
    public static async Task RunAsync(int port)
    {
        var small = Encoding.UTF8.GetBytes(Pad("{\"ok\":true,\"pad\":\"", 100 - 2) + "\"}");
        var json10k = Airlock.Bench.CustomerRecords.Json(10 * 1024);
        var json1m = Airlock.Bench.CustomerRecords.Json(1024 * 1024);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet("/small", context => Reply(context, small));
        app.MapGet("/json", context => Reply(context, json10k));
        app.MapGet("/large", context => Reply(context, json1m));
        // A long octet stream for the memory reading: /stream?bytes=N, written in 64 KiB pieces.
        app.MapGet("/stream", async context =>
        {
            var total = long.Parse(context.Request.Query["bytes"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            var piece = new byte[64 * 1024];
            Array.Fill(piece, (byte)'a');
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = total;
            for (long sent = 0; sent < total; sent += piece.Length)
            {
                await context.Response.Body.WriteAsync(piece.AsMemory(0, (int)Math.Min(piece.Length, total - sent)));
            }
        });
        await app.StartAsync();
        Console.WriteLine($"listening on {app.Urls.First()}");
        await app.WaitForShutdownAsync();
    }

    private static Task Reply(HttpContext context, byte[] body)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body).AsTask();
    }

    private static string Pad(string prefix, int length) => prefix + new string('x', length - prefix.Length);
}
