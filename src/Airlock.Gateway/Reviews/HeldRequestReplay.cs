using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Reviews;

/// <summary>Puts an approved request, headers and body exactly as stored, on the request that
/// will be forwarded: what the approver saw is what the upstream gets.</summary>
internal static class HeldRequestReplay
{
    public static void Apply(HttpRequest request, HeldRequest held)
    {
        request.Method = held.Method;
        request.Headers.Clear();
        foreach (var (name, value) in held.Headers)
        {
            request.Headers.Append(name, value);
        }

        request.ContentLength = held.Body.Length > 0 || held.Method is "POST" or "PUT" or "PATCH" ? held.Body.Length : null;
        request.Body = new MemoryStream(held.Body, writable: false);
    }
}
