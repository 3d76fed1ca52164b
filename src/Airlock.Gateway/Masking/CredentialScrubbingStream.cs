using System.Buffers;

namespace Airlock.Gateway.Masking;

/// <summary>
/// A response body with the connection's own credential scrubbed out as it streams: each read
/// takes a piece from the upstream and hands it on, the credential replaced. Only bytes at a
/// piece's end that could begin the credential (at most <see cref="InjectedCredential.LongestWritten"/>)
/// wait for the next piece, so a value cut in two between pieces is still found; a piece that
/// holds none goes on as it came, without a copy into an output buffer.
/// </summary>
internal sealed class CredentialScrubbingStream : Stream
{
    private const int PieceBytes = 16 * 1024;
    private readonly Stream _source;
    private readonly InjectedCredential _credential;
    private readonly MaskCounts _counts;
    private readonly Action<int>? _onEnd;
    private readonly byte[] _work;
    private ArrayBufferWriter<byte>? _output;
    private ReadOnlyMemory<byte> _pending;
    private int _carryStart;
    private int _carryLength;
    private int _scrubbed;
    private bool _ended;
    private bool _disposed;

    /// <param name="pending">Bytes already scrubbed, handed on first.</param>
    /// <param name="carry">Bytes read but not settled (they may begin the credential): scrubbed with what follows.</param>
    /// <param name="onEnd">Called once at the end of the body with how many values this stream scrubbed.</param>
    public CredentialScrubbingStream(Stream source, InjectedCredential credential, MaskCounts counts,
        ReadOnlyMemory<byte> pending = default, ReadOnlySpan<byte> carry = default, Action<int>? onEnd = null)
    {
        _source = source;
        _credential = credential;
        _counts = counts;
        _onEnd = onEnd;
        _work = ArrayPool<byte>.Shared.Rent(PieceBytes + credential.LongestWritten);
        carry.CopyTo(_work);
        _carryLength = carry.Length;
        _pending = pending;
    }

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

            // What was handed on is gone: the unsettled bytes move to the front, the next piece follows.
            Buffer.BlockCopy(_work, _carryStart, _work, 0, _carryLength);
            var read = await _source.ReadAsync(_work.AsMemory(_carryLength, PieceBytes), cancellationToken);
            var length = _carryLength + read;
            _ended = read == 0;
            _output?.ResetWrittenCount();
            var settled = _credential.Scrub(_work.AsSpan(0, length), final: _ended, ref _output, _counts, out var replaced);
            _scrubbed += replaced;
            _pending = replaced > 0 ? _output!.WrittenMemory : _work.AsMemory(0, settled);
            _carryStart = settled;
            _carryLength = length - settled;
            if (_ended)
            {
                _onEnd?.Invoke(_scrubbed);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _source.Dispose();
            ArrayPool<byte>.Shared.Return(_work);
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
