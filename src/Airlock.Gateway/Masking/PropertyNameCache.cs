using System.Buffers.Binary;

namespace Airlock.Gateway.Masking;

/// <summary>
/// The property names of one body that needed no masking, kept decoded: the same few names come
/// back in every object of an array, and each would otherwise be decoded, screened and
/// allocated again. An open-addressed table of bounded size: once full,
/// further names are simply not kept. Only names that no detector changes go in, and a name's
/// masking never depends on where it is. Each entry also remembers, per field rule, the last
/// path step it took, since the same name is usually reached from the same state.
/// </summary>
internal sealed class PropertyNameCache(int rules)
{
    private const int SlotBits = 8;
    private const int Slots = 1 << SlotBits;
    private const int MaxNames = Slots / 2;
    private const int MaxNameBytes = 64;

    private readonly Entry?[] _entries = new Entry?[Slots];
    private int _count;

    public sealed class Entry(byte[] utf8, string name, int rules)
    {
        private readonly (bool Known, ulong From, ulong To)[] _steps = new (bool, ulong, ulong)[rules];

        public byte[] Utf8 { get; } = utf8;

        public string Name { get; } = name;

        /// <summary>The name that came after this one last time, if it was kept.</summary>
        public Entry? Next { get; set; }

        /// <summary><see cref="JsonPathPattern.Child"/> for this name, remembered per rule.</summary>
        public ulong Child(int rule, JsonPathPattern path, ulong state)
        {
            ref var step = ref _steps[rule];
            if (!step.Known || step.From != state)
            {
                step = (true, state, path.Child(state, Name, -1));
            }

            return step.To;
        }
    }

    /// <summary>The entry for a name exactly as it came (escaped names are not kept).</summary>
    public Entry? Find(ReadOnlySpan<byte> utf8)
    {
        for (var slot = Slot(utf8); _entries[slot] is { } entry; slot = (slot + 1) % Slots)
        {
            if (utf8.SequenceEqual(entry.Utf8))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>Keeps a name not yet kept; null when it is too long or the table is full.</summary>
    public Entry? Add(ReadOnlySpan<byte> utf8, string name)
    {
        if (utf8.Length > MaxNameBytes || _count == MaxNames)
        {
            return null;
        }

        var slot = Slot(utf8);
        while (_entries[slot] is not null)
        {
            slot = (slot + 1) % Slots;
        }

        _count++;
        return _entries[slot] = new Entry(utf8.ToArray(), name, rules);
    }

    /// <summary>The length and the first and last eight bytes (or all of a shorter name),
    /// mixed by a multiplication whose top bits pick the slot (Fibonacci hashing).</summary>
    private static int Slot(ReadOnlySpan<byte> utf8)
    {
        var hash = (ulong)utf8.Length;
        if (utf8.Length >= sizeof(ulong))
        {
            hash ^= BinaryPrimitives.ReadUInt64LittleEndian(utf8) * 0x9E3779B97F4A7C15;
            hash ^= BinaryPrimitives.ReadUInt64LittleEndian(utf8[^sizeof(ulong)..]);
        }
        else
        {
            foreach (var b in utf8)
            {
                hash = (hash << 8) | b;
            }
        }

        return (int)((hash * 0x9E3779B97F4A7C15) >> (64 - SlotBits));
    }
}
