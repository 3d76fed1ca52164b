using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

/// <summary>
/// The console's stylesheet and script, embedded in the gateway (Console/Assets) and served at
/// <c>/assets/&lt;name&gt;.&lt;hash&gt;.&lt;ext&gt;</c>: the content hash in the address lets
/// browsers keep them for a year, and a new gateway version gets new addresses. Nothing comes
/// from another origin.
/// </summary>
internal sealed class ConsoleAssets
{
    private readonly FrozenDictionary<string, Asset> _byPath;

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    public ConsoleAssets()
    {
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        Stylesheet = Add(assets, "console.css", "text/css; charset=utf-8");
        Script = Add(assets, "console.js", "text/javascript; charset=utf-8");
        _byPath = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The stylesheet's address, for the layout.</summary>
    public string Stylesheet { get; }

    /// <summary>The script's address, for the layout.</summary>
    public string Script { get; }

    private static string Add(Dictionary<string, Asset> assets, string name, string contentType)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("console/" + name)
            ?? throw new InvalidOperationException($"the console asset {name} is not embedded in the gateway");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        var hash = Convert.ToHexStringLower(SHA256.HashData(content))[..16];
        var dot = name.LastIndexOf('.');
        var path = $"/assets/{name[..dot]}.{hash}{name[dot..]}";
        assets[path] = new Asset(content, contentType, $"\"{hash}\"");
        return path;
    }

    /// <summary>Answers <c>GET /assets/…</c>: the asset, 304 when the browser has it, or 404.</summary>
    public Task ServeAsync(HttpContext context)
    {
        if (!_byPath.TryGetValue(context.Request.Path.Value ?? "", out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var headers = context.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "public, max-age=31536000, immutable";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Content.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(asset.Content).AsTask();
    }
}
