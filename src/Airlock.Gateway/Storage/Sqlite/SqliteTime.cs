namespace Airlock.Gateway.Storage.Sqlite;

/// <summary>SQLite has no time type; times are stored as Unix microseconds.</summary>
internal static class SqliteTime
{
    public static long ToMicroseconds(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromMicroseconds(long value) => new(DateTimeOffset.UnixEpoch.UtcTicks + (value * 10), TimeSpan.Zero);

    public static long ToMicroseconds(TimeSpan value) => value.Ticks / 10;

    public static TimeSpan SpanFromMicroseconds(long value) => TimeSpan.FromTicks(value * 10);

    /// <summary>Reads a time column (a <see cref="Rows.TimeColumn"/>).</summary>
    public static DateTimeOffset Read(System.Data.Common.DbDataReader reader, int ordinal) => FromMicroseconds(reader.GetInt64(ordinal));
}
