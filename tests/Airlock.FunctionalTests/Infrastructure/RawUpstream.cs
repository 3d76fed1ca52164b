using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// An upstream on a bare socket at 127.0.0.1:0, for answers Kestrel would never send: it reads
/// each request's head, then runs the test's script on the socket (write bytes that are not
/// HTTP, stop halfway, reset the connection, go silent).
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Socket, Task> _script;
    private readonly Task _accepting;
    private int _requests;

    private RawUpstream(Func<Socket, Task> script)
    {
        _script = script;
        _listener.Start();
        BaseUri = new Uri($"http://{_listener.LocalEndpoint}");
        _accepting = AcceptAsync();
    }

    public Uri BaseUri { get; }

    /// <summary>How many request heads arrived.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Starts an upstream that runs <paramref name="script"/> on every connection once
    /// the request's head has arrived.</summary>
    public static RawUpstream Start(Func<Socket, Task> script) => new(script);

    /// <summary>Sends <paramref name="text"/> as it is.</summary>
    public static async Task SendAsync(Socket socket, string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Closes with a TCP reset (RST), not an orderly FIN: the connection breaks.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>Keeps the connection open and silent until the upstream is disposed.</summary>
    public Task SilenceAsync() => Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    try
                    {
                        await ReadHeadAsync(socket);
                        Interlocked.Increment(ref _requests);
                        await _script(socket);
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
                    {
                        // The gateway went away first; nothing to answer.
                    }
                }
            });
        }
    }

    private static async Task ReadHeadAsync(Socket socket)
    {
        var head = new List<byte>();
        var buffer = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await socket.ReceiveAsync(buffer) == 0)
            {
                throw new IOException("the connection closed before the request's head ended");
            }

            head.Add(buffer[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
