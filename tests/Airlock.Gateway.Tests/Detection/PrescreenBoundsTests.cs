using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Tests.Detection;

/// <summary>
/// The prescreen reads 64 bytes at a time with unchecked vector loads, sliding its window back
/// from the end of the buffer it is given. These tests put that buffer flush against memory the
/// process may not read (a page mapped with no access): a load one byte before or after the
/// buffer stops the test run with a segmentation fault. A body at the end of a native buffer
/// (Kestrel's pipe memory) must never do that to the gateway.
/// </summary>
public sealed class PrescreenBoundsTests : IDisposable
{
    private const int ProtNone = 0;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;

    private static readonly int PageSize = Environment.SystemPageSize;

    /// <summary>Three pages: the first and the last may not be touched, the middle one holds the text.</summary>
    private readonly nint _pages;

    public PrescreenBoundsTests()
    {
        _pages = mmap(0, (nuint)(3 * PageSize), ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        Assert.NotEqual(-1, _pages);
        Assert.Equal(0, mprotect(_pages, (nuint)PageSize, ProtNone));
        Assert.Equal(0, mprotect(_pages + 2 * PageSize, (nuint)PageSize, ProtNone));
    }

    public void Dispose() => Assert.Equal(0, munmap(_pages, (nuint)(3 * PageSize)));

    public static TheoryData<int> Lengths => [.. Enumerable.Range(0, 140)];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void A_buffer_at_the_edge_of_readable_memory_is_screened_without_reading_past_it(int length)
    {
        // Digits, separators and trigger characters everywhere, so every path of the scan runs;
        // then plain words with one '@' last, so the window slides all the way to the end.
        var busy = new byte[length];
        var plain = new byte[length];
        var pattern = "a1-2 3.4:5@6_7+8(9Jey AKIA ab\u00e9"u8;
        for (var i = 0; i < length; i++)
        {
            busy[i] = pattern[(i * 7 + length) % pattern.Length];
            plain[i] = i == length - 1 ? (byte)'@' : (byte)"lorem ipsum "[i % 12];
        }

        foreach (var (text, atStart) in new[] { (busy, true), (busy, false), (plain, true), (plain, false) })
        {
            var around = Edge(text, atStart);
            Check(around, 0, length);
            for (var start = 0; start < length; start += Math.Max(1, length / 5))
            {
                Check(around, start, length - start);
                Check(around, start, Math.Min(length - start, 3));
            }
        }
    }

    private static void Check(ReadOnlySpan<byte> around, int start, int length)
    {
        var each = Prescreen.ScanEachByte(around.Slice(start, length));

        var signals = Prescreen.Scan(around, start, length);

        Assert.Equal(each, signals & each);
    }

    /// <summary>The text copied into the middle page, flush against its start or its end.</summary>
    private Span<byte> Edge(byte[] text, bool atStart)
    {
        var address = _pages + PageSize + (atStart ? 0 : PageSize - text.Length);
        var span = MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<byte>(), (nuint)address), text.Length);
        text.CopyTo(span);
        return span;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(nint address, nuint length, int protection);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint address, nuint length);
}
