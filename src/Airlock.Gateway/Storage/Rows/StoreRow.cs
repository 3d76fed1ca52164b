using System.Data.Common;

namespace Airlock.Gateway.Storage.Rows;

/// <summary>How an engine keeps a point in time: SQLite has no time type and keeps Unix
/// microseconds; PostgreSQL has <c>timestamptz</c>.</summary>
internal delegate DateTimeOffset TimeColumn(DbDataReader reader, int ordinal);

/// <summary>
/// One row of either store, read by column name, so a column added to a query cannot shift what
/// is read from it. The engines agree on everything but time: ids are text in SQLite and
/// <c>uuid</c> in PostgreSQL, and each provider's <c>GetGuid</c> reads its own; spans are whole
/// microseconds in both; flags are 0/1 in SQLite, which its <c>GetBoolean</c> reads.
/// </summary>
internal readonly struct StoreRow(DbDataReader reader, TimeColumn time)
{
    /// <summary>A JSON column in a select list: PostgreSQL's <c>jsonb</c> read as text, under
    /// its own name; SQLite keeps JSON as text already (and the same list serves its inserts).</summary>
    public static string Json(string column, bool asText) => asText ? $"{column}::text AS {column}" : column;

    public bool IsNull(string column) => reader.IsDBNull(reader.GetOrdinal(column));

    public string Text(string column) => reader.GetString(reader.GetOrdinal(column));

    public string? TextOrNull(string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetString(i);
    }

    public int Int(string column) => reader.GetInt32(reader.GetOrdinal(column));

    public long Long(string column) => reader.GetInt64(reader.GetOrdinal(column));

    public bool Flag(string column) => reader.GetBoolean(reader.GetOrdinal(column));

    public Guid Id(string column) => reader.GetGuid(reader.GetOrdinal(column));

    public Guid? IdOrNull(string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetGuid(i);
    }

    public DateTimeOffset Time(string column) => time(reader, reader.GetOrdinal(column));

    public DateTimeOffset? TimeOrNull(string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : time(reader, i);
    }

    public TimeSpan Span(string column) => TimeSpan.FromTicks(reader.GetInt64(reader.GetOrdinal(column)) * 10);

    public TimeSpan? SpanOrNull(string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : TimeSpan.FromTicks(reader.GetInt64(i) * 10);
    }

    public byte[] Bytes(string column) => (byte[])reader.GetValue(reader.GetOrdinal(column));

    public byte[]? BytesOrNull(string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : (byte[])reader.GetValue(i);
    }
}
