using Airlock.Gateway.Recording;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// Passes a body through unchanged and counts the bytes that went by, for the session's
/// byte counts, and hands them to the recording when the connection records bodies
/// (<see cref="RecordingFeature"/>, which starts after this stream is in place). Used on the
/// request body (reads) and the response body (writes).
/// </summary>
internal sealed class CountingStream(Stream inner, SessionFeature session, IFeatureCollection features, bool countsRequest) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    private void Count(ReadOnlySpan<byte> bytes)
    {
        if (countsRequest)
        {
            session.RequestBytes += bytes.Length;
            features.Get<RecordingFeature>()?.Request.Append(bytes);
        }
        else
        {
            session.ResponseBytes += bytes.Length;
            features.Get<RecordingFeature>()?.Response.Append(bytes);
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Count(buffer.AsSpan(offset, read));
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Count(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Count(buffer.AsSpan(offset, count));
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Count(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
