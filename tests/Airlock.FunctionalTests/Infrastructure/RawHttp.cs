using System.Net.Sockets;
using System.Text;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>The status, headers and body of a raw HTTP/1.1 response.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// Sends a request target byte for byte over a socket. HttpClient normalises URLs (it turns
/// '\' into '/' and resolves '..'), which would hide exactly the forms the gateway must refuse.
/// </summary>
public static class RawHttp
{
    public static Task<RawResponse> SendAsync(Uri server, string target, string? bearer = null, string method = "GET") =>
        SendAsync(server, target, bearer, method, [], null);

    /// <summary>Sends the headers given line by line (repeated names stay repeated, as HttpClient
    /// would not send them) and the body with its Content-Length.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, string target, string? bearer, string method,
        IEnumerable<string> headerLines, byte[]? body)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder()
            .Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Authority).Append("\r\n")
            .Append(bearer is null ? "" : $"Authorization: Bearer {bearer}\r\n");
        foreach (var line in headerLines)
        {
            request.Append(line).Append("\r\n");
        }

        if (body is not null)
        {
            request.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        request.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request.ToString()));
        if (body is not null)
        {
            await stream.WriteAsync(body);
        }

        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lines = text[..headerEnd].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2))
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(p => p[1].Trim())), StringComparer.OrdinalIgnoreCase);
        return new RawResponse(status, headers, text[(headerEnd + 4)..]);
    }
}
