using System.Collections.Frozen;
using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Passes a response body through unchanged while keeping a copy of its first bytes (up to a
/// cap) as the review's result, so an executed review's answer can be fetched later. Once
/// <paramref name="callerAborted"/> fires, a write the caller's connection refuses is dropped
/// and the copy goes on: the result is recorded whether or not the caller is still there.
/// </summary>
internal sealed class ResultCaptureStream(Stream inner, long cap, CancellationToken callerAborted = default) : Stream
{
    private static readonly FrozenSet<string> NotKept = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        // A cookie the upstream sets is a credential; hop-by-hop headers describe one connection.
        HeaderNames.SetCookie, HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.TransferEncoding, HeaderNames.Upgrade,
    ]);

    private readonly MemoryStream _copy = new();
    private bool _callerGone;

    public bool Truncated { get; private set; }

    /// <summary>Every byte that went through, kept or not.</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        Written += bytes.Length;
        var room = (int)Math.Min(Math.Max(cap - _copy.Length, 0), bytes.Length);
        _copy.Write(bytes[..room]);
        Truncated |= room < bytes.Length;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (!_callerGone)
        {
            try
            {
                inner.Write(buffer, offset, count);
            }
            catch (Exception) when (callerAborted.IsCancellationRequested)
            {
                _callerGone = true;
            }
        }

        Keep(buffer.AsSpan(offset, count));
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_callerGone)
        {
            try
            {
                await inner.WriteAsync(buffer, cancellationToken);
            }
            catch (Exception) when (callerAborted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _callerGone = true;
            }
        }

        Keep(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
        if (!_callerGone)
        {
            try
            {
                inner.Flush();
            }
            catch (Exception) when (callerAborted.IsCancellationRequested)
            {
                _callerGone = true;
            }
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!_callerGone)
        {
            try
            {
                await inner.FlushAsync(cancellationToken);
            }
            catch (Exception) when (callerAborted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _callerGone = true;
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>The result as the agent received it (status, headers, body up to the cap).</summary>
    public ReviewResult ToResult(HttpResponse response, Guid sessionId)
    {
        var headers = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (name, values) in response.Headers)
        {
            if (NotKept.Contains(name))
            {
                continue;
            }

            foreach (var value in values)
            {
                headers.Add(new(name, value ?? ""));
            }
        }

        return new ReviewResult(response.StatusCode, headers.ToImmutable(), _copy.ToArray(), Truncated, sessionId);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _copy.Dispose();
        }

        base.Dispose(disposing);
    }
}
