using Microsoft.Data.Sqlite;
using Npgsql;

namespace Airlock.Gateway.Storage;

/// <summary>Tells a store refusing some data apart from a store that is unavailable.</summary>
internal static class StoreErrors
{
    /// <summary>
    /// True when the store answered and refused the data itself (a constraint, a value it
    /// cannot hold): retrying the same data cannot succeed. Anything else (locked, down,
    /// timed out, a table briefly missing) may pass on retry.
    /// </summary>
    public static bool IsDataRejection(Exception exception) => exception switch
    {
        // SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH.
        SqliteException sqlite => sqlite.SqliteErrorCode is 18 or 19 or 20,
        // Class 22: data exception; class 23: integrity constraint violation.
        PostgresException postgres => postgres.SqlState.StartsWith("22", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("23", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>True when the store is out of room: SQLITE_FULL (a full disk, or the
    /// database's <c>maxSize</c>), or PostgreSQL's disk_full.</summary>
    public static bool IsFull(Exception exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == 13,
        PostgresException postgres => postgres.SqlState == "53100",
        _ => false,
    };

    /// <summary>True for a store that could not serve the request at all (down, locked, full,
    /// unreachable), as opposed to a defect: the gateway answers 503, not 500.</summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is StoreBusyException || exception is SqliteException or NpgsqlException && !IsDataRejection(exception);
}

/// <summary>The store did not take a write within its busy timeout (the write queue stayed held).</summary>
internal sealed class StoreBusyException(string message) : Exception(message);
