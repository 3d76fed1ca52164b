namespace Airlock.Gateway.Identity;

/// <summary>
/// Why a presented credential was refused, in words safe to show the caller: never the
/// credential, never a stored value. Carried as an <see cref="Microsoft.AspNetCore.Authentication.AuthenticateResult"/>
/// failure, which ASP.NET authentication requires to be an exception; it is not thrown.
/// </summary>
internal sealed class CredentialRejectedException : Exception
{
    /// <summary>The reason as a stable short name (docs/audit.md), e.g. <c>revoked-key</c>.</summary>
    public string Reason { get; init; } = "invalid-credential";

    /// <summary>For a revoked key presented with its right secret: the key's subject.</summary>
    public string? RevokedSubject { get; init; }

    public CredentialRejectedException()
    {
    }

    public CredentialRejectedException(string message)
        : base(message)
    {
    }

    public CredentialRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
