namespace Airlock.Gateway.Configuration;

/// <summary>At most <paramref name="Requests"/> requests <paramref name="Per"/> period, as a
/// token bucket: a client that was quiet may spend the whole allowance at once.</summary>
internal sealed record RateLimit(int Requests, TimeSpan Per);
