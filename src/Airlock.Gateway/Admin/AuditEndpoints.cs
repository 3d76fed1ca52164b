using System.Globalization;
using System.Text.Json;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Gateway.Admin;

/// <summary>
/// The audit trail on the admin API, for admins and auditors:
/// <code>
/// GET  /api/audit?since=&amp;until=&amp;actor=&amp;connection=&amp;after=&amp;limit=   events, oldest first; "next" pages on
/// GET  /api/audit/verify                                          walk the chain and check the checkpoints now
/// GET  /api/audit/checkpoints                                     the signed checkpoints and the public key
/// POST /api/audit/checkpoints                                     sign the head now (admins)
/// </code>
/// Events are returned in their canonical form with their hash, exactly the bytes that were
/// hashed, so a client can check them against a checkpoint itself.
/// </summary>
internal static class AuditEndpoints
{
    public const int MaxLimit = 1000;



    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/audit", QueryAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        endpoints.MapGet("/api/audit/verify", VerifyAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        endpoints.MapGet("/api/audit/checkpoints", ListCheckpointsAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        endpoints.MapPost("/api/audit/checkpoints", CheckpointAsync).RequireRoles(AdminRoles.Admin);
        return endpoints;
    }

    private static async Task QueryAsync(HttpContext context, IAuditStore store)
    {
        var query = context.Request.Query;
        foreach (var key in query.Keys)
        {
            if (key is not ("since" or "until" or "actor" or "connection" or "after" or "limit"))
            {
                await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest,
                    $"unknown parameter '{key}'; the filters are since, until, actor, connection, after and limit");
                return;
            }
        }

        if (!TryTime(query["since"], out var since) || !TryTime(query["until"], out var until))
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "since and until are ISO 8601 times, e.g. 2026-11-01T09:00:00Z");
            return;
        }

        if (!TryNumber(query["after"], 0, long.MaxValue, 0, out var after) || !TryNumber(query["limit"], 1, MaxLimit, 100, out var limit))
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, $"after is an event number (0 or more); limit is 1 to {MaxLimit}");
            return;
        }

        var events = await store.QueryAuditEventsAsync(new AuditQuery(since, until, Single(query["actor"]), Single(query["connection"]), after, (int)limit + 1),
            context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteStartArray("events");
        foreach (var e in events.Take((int)limit))
        {
            json.WriteRawValue(AuditChain.CanonicalizeWithHash(e), skipInputValidation: true);
        }

        json.WriteEndArray();
        // One more than asked was read: whether there is a next page is known, not guessed.
        if (events.Count > limit)
        {
            json.WriteNumber("next", events[(int)limit - 1].Seq);
        }
        else
        {
            json.WriteNull("next");
        }

        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task VerifyAsync(HttpContext context, IAuditStore store, AuditCheckpointService checkpoints, AuditVerificationGate gate)
    {
        var verifying = gate.Semaphore;
        if (!await verifying.WaitAsync(TimeSpan.Zero))
        {
            await ProblemWriter.WriteAsync(context, ProblemType.RateLimited, "a verification of the audit trail is already running; try again when it ends",
                headers: h => h.RetryAfter = "5");
            return;
        }

        AuditVerification result;
        try
        {
            result = await AuditStoreVerification.VerifyAsync(store, checkpoints.VerificationKeys, context.RequestAborted);
        }
        finally
        {
            verifying.Release();
        }

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteBoolean("valid", result.Valid);
        json.WriteNumber("count", result.Count);
        json.WriteString("headHash", result.HeadHash);
        if (result.Break is { } broken)
        {
            json.WriteStartObject("break");
            json.WriteNumber("seq", broken.Seq);
            json.WriteString("problem", broken.Problem);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("break");
        }

        json.WriteStartArray("checkpoints");
        foreach (var note in result.Checkpoints)
        {
            json.WriteStringValue(note);
        }

        json.WriteEndArray();
        json.WriteBoolean("signaturesChecked", checkpoints.VerificationKeys is not null);
        json.WriteNumber("elapsedMs", Math.Round(result.Elapsed.TotalMilliseconds, 3));
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task ListCheckpointsAsync(HttpContext context, IAuditStore store, AuditCheckpointService service)
    {
        var list = await store.ListAuditCheckpointsAsync(context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        WriteKey(json, service);
        json.WriteStartArray("checkpoints");
        foreach (var checkpoint in list)
        {
            json.WriteRawValue(checkpoint.ToJson(), skipInputValidation: true);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task CheckpointAsync(HttpContext context, IAuditStore store, AuditCheckpointService service)
    {
        if (!service.Enabled)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.AuditSigningDisabled,
                "no audit.signingKey is configured; create one with 'airlock audit keygen' and restart the gateway");
            return;
        }

        AuditCheckpoint? created;
        try
        {
            created = await service.CheckpointAsync(context.RequestAborted);
        }
        catch (AuditChainBrokenException ex)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.AuditChainBroken,
                $"the gateway does not sign a chain that does not continue what it signed and wrote: {ex.Message}");
            return;
        }

        var checkpoint = created;
        if (checkpoint is null)
        {
            var list = await store.ListAuditCheckpointsAsync(context.RequestAborted);
            if (list.Count == 0)
            {
                await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "the audit trail is empty; there is nothing to sign");
                return;
            }

            checkpoint = list[^1];
        }

        // 201 for a new checkpoint; 200 with the latest when nothing was recorded since.
        context.Response.StatusCode = created is null ? StatusCodes.Status200OK : StatusCodes.Status201Created;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(checkpoint.ToJson(), context.RequestAborted);
    }

    private static void WriteKey(Utf8JsonWriter json, AuditCheckpointService service)
    {
        if (service.Enabled)
        {
            json.WriteString("keyId", service.KeyId);
            json.WriteString("publicKey", service.PublicKeyPem);
        }
        else
        {
            json.WriteNull("keyId");
            json.WriteNull("publicKey");
        }
    }

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values[^1];

    private static bool TryTime(Microsoft.Extensions.Primitives.StringValues values, out DateTimeOffset? value)
    {
        value = null;
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count == 1 && Configuration.IsoTime.TryParse(values[0], out var parsed))
        {
            value = parsed;
            return true;
        }

        return false;
    }

    private static bool TryNumber(Microsoft.Extensions.Primitives.StringValues values, long min, long max, long fallback, out long value)
    {
        value = fallback;
        if (values.Count == 0)
        {
            return true;
        }

        return values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }
}

/// <summary>A verification walks the whole chain: one at a time per gateway, so callers of
/// <c>GET /api/audit/verify</c> cannot pile them up.</summary>
internal sealed class AuditVerificationGate : IDisposable
{
    public SemaphoreSlim Semaphore { get; } = new(1, 1);

    public void Dispose() => Semaphore.Dispose();
}
