using System.Runtime.CompilerServices;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// An HTTP/1.x connection to an upstream, seen as .NET's handler reads and writes it. Its one
/// job: when the upstream ends the connection after a request was written and before any byte
/// of an answer, say so with an <see cref="UpstreamClosedException"/> instead of an end of stream.
/// <para>
/// Why: on that end of stream, <c>SocketsHttpHandler</c> takes a request without a body as safe
/// to send again and does so on another connection, up to three more times
/// (<c>HttpConnection</c> sets <c>_canRetry</c>; <c>HttpConnectionPool</c> retries on
/// <c>RequestRetryType.RetryOnConnectionFailure</c>, <c>MaxConnectionFailureRetries = 3</c>).
/// The upstream may have acted on each of them, and none of them would be on record. An
/// exception instead of the end of stream is not retried: the request reaches the upstream once,
/// and the gateway decides about any further attempt (<see cref="UpstreamAttemptHandler"/>).
/// </para>
/// An end of stream after an answer has begun (a body delimited by the connection's close, a
/// kept-alive connection the upstream closes while idle) passes through unchanged. That holds
/// while the request's body is still being written after an early answer began: a write is the
/// start of a new request only when it belongs to another exchange than the one being answered
/// (<see cref="Exchange"/>, one per attempt, set by <see cref="UpstreamAttemptHandler"/> on the
/// async flow that writes the request).
/// </summary>
internal sealed class UpstreamConnectionStream(Stream inner) : Stream
{
    /// <summary>One attempt at a request: its head and body are written on the flow it is
    /// current on, wherever .NET's handler runs the body's copy.</summary>
    internal sealed class Exchange
    {
        private volatile bool _answered;

        /// <summary>The first byte of its answer has been read.</summary>
        public bool Answered => _answered;

        public void AnswerBegun() => _answered = true;
    }

    /// <summary>The exchange being written on the current async flow.</summary>
    internal static readonly AsyncLocal<Exchange?> CurrentExchange = new();

    // True from a write until the first byte read after it: a request is out, no answer yet.
    private volatile bool _awaitingAnswer;

    // The exchange whose request was written last on this connection.
    private volatile Exchange? _exchange;

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override bool CanTimeout => inner.CanTimeout;

    public override int ReadTimeout
    {
        get => inner.ReadTimeout;
        set => inner.ReadTimeout = value;
    }

    public override int WriteTimeout
    {
        get => inner.WriteTimeout;
        set => inner.WriteTimeout = value;
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Every byte of every upstream response passes here: no state machine when the read is
        // done already, and a pooled one when it is not.
        ValueTask<int> pending;
        try
        {
            pending = inner.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException ex) when (_awaitingAnswer)
        {
            throw new UpstreamClosedException(ex);
        }

        return pending.IsCompletedSuccessfully ? ValueTask.FromResult(Seen(pending.Result, buffer.Length)) : AwaitReadAsync(pending, buffer.Length);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitReadAsync(ValueTask<int> pending, int asked)
    {
        int read;
        try
        {
            read = await pending;
        }
        catch (IOException ex) when (_awaitingAnswer)
        {
            throw new UpstreamClosedException(ex);
        }

        return Seen(read, asked);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = inner.Read(buffer);
        }
        catch (IOException ex) when (_awaitingAnswer)
        {
            throw new UpstreamClosedException(ex);
        }

        return Seen(read, buffer.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>A zero-byte read (a wait for data) returning 0 is not an end of stream.</summary>
    private int Seen(int read, int asked)
    {
        if (read > 0)
        {
            _awaitingAnswer = false;
            _exchange?.AnswerBegun();
        }
        else if (asked > 0 && _awaitingAnswer)
        {
            throw new UpstreamClosedException();
        }

        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Writing();
        return inner.WriteAsync(buffer, cancellationToken);
    }

    /// <summary>A write starts waiting for an answer, unless it is the body of a request whose
    /// answer has begun already. .NET's handler writes a body after reading an answer when the
    /// request asked first (<c>Expect: 100-continue</c>) and a final success status came instead
    /// of a 100 (RFC 9110 §10.1.1); otherwise it reads only once the body is out.</summary>
    private void Writing()
    {
        var exchange = CurrentExchange.Value;
        if (exchange is null || exchange != _exchange || !exchange.Answered)
        {
            _exchange = exchange;
            _awaitingAnswer = true;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Writing();
        inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
