using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Airlock.FunctionalTests.Differential;

/// <summary>
/// Sends a request byte for byte over a socket (as <see cref="Infrastructure.RawHttp"/> does: an
/// HttpClient would normalise the target and refuse some header names) and reads the answer's
/// body as bytes, de-chunked.
/// </summary>
public static class Wire
{
    public sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

    public static async Task<Answer?> SendAsync(Uri server, string target, string bearer, string method, IEnumerable<string> headerLines, byte[]? body)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        var head = new StringBuilder()
            .Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Authority).Append("\r\n")
            .Append("Authorization: Bearer ").Append(bearer).Append("\r\n");
        foreach (var line in headerLines)
        {
            head.Append(line).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()));
            if (body is not null)
            {
                await stream.WriteAsync(body);
            }
        }
        catch (IOException)
        {
            // The server answered (and closed) before the body was sent: read what it said.
        }

        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer);
        }
        catch (IOException)
        {
        }

        var bytes = buffer.ToArray();
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return null;
        }

        var lines = Encoding.Latin1.GetString(bytes, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2))
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(p => p[1].Trim())), StringComparer.OrdinalIgnoreCase);
        var content = bytes[(end + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            content = Dechunk(content);
        }

        return new Answer(status, headers, content);
    }

    private static byte[] Dechunk(byte[] chunked)
    {
        using var result = new MemoryStream();
        var at = 0;
        while (at < chunked.Length)
        {
            var end = chunked.AsSpan(at).IndexOf("\r\n"u8);
            if (end < 0)
            {
                break;
            }

            var size = int.Parse(Encoding.ASCII.GetString(chunked, at, end).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                break;
            }

            result.Write(chunked, at + end + 2, size);
            at += end + 2 + size + 2;
        }

        return result.ToArray();
    }
}
