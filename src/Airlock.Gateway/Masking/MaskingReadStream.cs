using System.Buffers;

namespace Airlock.Gateway.Masking;

/// <summary>
/// The upstream's (decoded) body as the agent gets it: each read takes a piece from the
/// upstream, masks it, and hands on what came out, so memory stays at one piece plus what the
/// masker holds back. A body that cannot be masked safely ends in an <see cref="IOException"/>,
/// which makes the forwarder abort the response rather than send the rest.
/// </summary>
internal sealed class MaskingReadStream(Stream source, IBodyMasker masker, ReadOnlyMemory<byte> prefix, Action onComplete, Action<MaskingFailedException> onFailure)
    : Stream
{
    private const int PieceBytes = 16 * 1024;
    private readonly ArrayBufferWriter<byte> _output = new(PieceBytes * 2);
    private readonly byte[] _piece = ArrayPool<byte>.Shared.Rent(PieceBytes);
    private ReadOnlyMemory<byte> _pending = prefix;
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!_pending.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _pending.Length);
                _pending[..n].CopyTo(buffer);
                _pending = _pending[n..];
                return n;
            }

            if (_ended)
            {
                return 0;
            }

            _output.ResetWrittenCount();
            var read = await source.ReadAsync(_piece.AsMemory(0, PieceBytes), cancellationToken);
            try
            {
                if (read == 0)
                {
                    masker.Complete(_output);
                    _ended = true;
                    onComplete();
                }
                else
                {
                    masker.Write(_piece.AsSpan(0, read), _output);
                }
            }
            catch (MaskingFailedException ex)
            {
                onFailure(ex);
                throw new IOException("the response could not be masked", ex);
            }

            _pending = _output.WrittenMemory;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            source.Dispose();
            (masker as IDisposable)?.Dispose();
            ArrayPool<byte>.Shared.Return(_piece);
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
