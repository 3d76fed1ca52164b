namespace Airlock.Gateway.Detection;

/// <summary>
/// What <see cref="Prescreen"/> saw in a text: for each built-in detector, whether a necessary
/// condition of its pattern holds. A detector whose signal is absent cannot find anything there.
/// </summary>
[Flags]
internal enum DetectorSignals : uint
{
    None = 0,
    PrivateKey = 1 << 0,
    Jwt = 1 << 1,
    AwsAccessKey = 1 << 2,
    GitHubToken = 1 << 3,
    SecretKey = 1 << 4,
    Email = 1 << 5,
    PaymentCard = 1 << 6,
    Iban = 1 << 7,
    UsSsn = 1 << 8,
    Ipv4 = 1 << 9,
    Ipv6 = 1 << 10,
    Phone = 1 << 11,

    /// <summary>Set for every text: what a detector that cannot be screened (a custom one) needs.</summary>
    Always = 1u << 31,
}
