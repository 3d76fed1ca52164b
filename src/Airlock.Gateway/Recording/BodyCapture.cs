namespace Airlock.Gateway.Recording;

/// <summary>The first bytes of a body as they pass, up to a cap; past it, only the total.</summary>
internal sealed class BodyCapture(long cap)
{
    // Allocated on the first bytes, sized to them: most requests have no body and many replies
    // are small, and a fixed 4 KiB for each side was most of what a recorded request allocated.
    private byte[] _bytes = [];

    public int Length { get; private set; }

    public long Total { get; private set; }

    public bool Truncated => Total > Length;

    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, Length);

    public void Append(ReadOnlySpan<byte> data)
    {
        Total += data.Length;
        var room = (int)Math.Min(data.Length, cap - Length);
        if (room <= 0)
        {
            return;
        }

        if (Length + room > _bytes.Length)
        {
            Array.Resize(ref _bytes, (int)Math.Min(cap, Math.Max(Math.Max(_bytes.Length * 2L, Length + room), 256)));
        }

        data[..room].CopyTo(_bytes.AsSpan(Length));
        Length += room;
    }
}
