namespace Airlock.Gateway.Sessions;

/// <summary>Filters for listing sessions, newest first.</summary>
internal sealed record SessionQuery(int Limit = 50, string? Connection = null, string? Subject = null, DateTimeOffset? Since = null, int? Status = null);
