namespace Airlock.Gateway.Configuration;

/// <summary>Where the policy is and how much of a message it may inspect.</summary>
/// <param name="File">The policy file (absolute); it is watched and hot-reloaded.</param>
/// <param name="MaxBodyBytes">The most of a request body (decoded) read to evaluate a rule that
/// needs it; a larger body is refused with 413, never let through unread.</param>
/// <param name="MaxResponseBodyBytes">The most of a response body (decoded) read for a guardrail
/// that inspects it; a larger response is blocked.</param>
internal sealed record PolicyConfig(string File, long MaxBodyBytes, long MaxResponseBodyBytes);
