namespace Airlock.Gateway.Audit;

/// <summary>The audit trail could not record an event; whatever needed the record is refused.</summary>
internal sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException()
    {
    }

    public AuditUnavailableException(string message)
        : base(message)
    {
    }

    public AuditUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
