using System.IO.Compression;
using Airlock.Gateway.Admin;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Audit.Evidence;
using Airlock.Gateway.Console.Pages;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

internal static partial class ConsoleEndpoints
{
    private static Task<IResult> AuditAsync(HttpContext context, IAuditStore store, AuditCheckpointService checkpoints) =>
        AuditPageAsync(context, store, checkpoints, verification: null, busy: false);

    /// <summary>
    /// Verifies the trail now, as <c>GET /api/audit/verify</c> does, and one at a time across
    /// both (the same gate): it reads every event. A post, since it is work on demand, not a read
    /// a crawler or prefetch should trigger.
    /// </summary>
    private static async Task<IResult> VerifyAuditAsync(HttpContext context, IAuditStore store, AuditCheckpointService checkpoints, AuditVerificationGate gate,
        IAntiforgery antiforgery)
    {
        if (await AuditRefusalAsync(context, antiforgery) is { } refused)
        {
            return refused;
        }

        if (!await gate.Semaphore.WaitAsync(TimeSpan.Zero, context.RequestAborted))
        {
            return await AuditPageAsync(context, store, checkpoints, verification: null, busy: true, StatusCodes.Status429TooManyRequests);
        }

        AuditVerification result;
        try
        {
            result = await AuditStoreVerification.VerifyAsync(store, checkpoints.VerificationKeys, context.RequestAborted);
        }
        finally
        {
            gate.Semaphore.Release();
        }

        return await AuditPageAsync(context, store, checkpoints, result, busy: false);
    }

    /// <summary>
    /// The evidence bundle <c>airlock audit export</c> writes (events.jsonl, events.csv,
    /// checkpoints.jsonl, manifest.json), the whole trail, as one zip to download; unzipped, it
    /// verifies offline with <c>airlock audit verify --file</c>. A post like verification, and
    /// behind the same gate: it reads every event.
    /// </summary>
    private static async Task<IResult> ExportAuditAsync(HttpContext context, IAuditStore store, AuditCheckpointService checkpoints, AuditVerificationGate gate,
        IAntiforgery antiforgery, TimeProvider time)
    {
        if (await AuditRefusalAsync(context, antiforgery) is { } refused)
        {
            return refused;
        }

        if (!await gate.Semaphore.WaitAsync(TimeSpan.Zero, context.RequestAborted))
        {
            return await AuditPageAsync(context, store, checkpoints, verification: null, busy: true, StatusCodes.Status429TooManyRequests);
        }

        var work = Directory.CreateTempSubdirectory("airlock-export-");
        try
        {
            var bundle = Path.Combine(work.FullName, "bundle");
            var manifest = await AuditExport.WriteAsync(store, bundle, since: null, until: null, csv: true, time, context.RequestAborted);
            var zip = Path.Combine(work.FullName, "evidence.zip");
            await ZipFile.CreateFromDirectoryAsync(bundle, zip, CompressionLevel.Optimal, includeBaseDirectory: false, context.RequestAborted);

            // Opened before the folder goes: on Linux the open file outlives its deletion, so
            // nothing of the export stays on disk once the download ends or is abandoned.
            var download = new FileStream(zip, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            var name = $"airlock-audit-{manifest.ExportedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{manifest.FirstSeq}-{manifest.LastSeq}.zip";
            return Results.File(download, "application/zip", name);
        }
        finally
        {
            gate.Semaphore.Release();
            work.Delete(recursive: true);
        }
    }

    private static async Task<IResult?> AuditRefusalAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!MayAudit(context))
        {
            return NotAnAuditor(context);
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return ConsolePages.Message(context, StatusCodes.Status400BadRequest, "Not verified",
                ["The form did not come from this console page, or it is too old. Open the audit page again and verify there."], "/audit", "Audit trail");
        }

        return null;
    }

    private static bool MayAudit(HttpContext context) => Caller(context).Has(AdminRoles.Admin | AdminRoles.Auditor);

    private static Microsoft.AspNetCore.Http.HttpResults.RazorComponentResult<MessagePage> NotAnAuditor(HttpContext context) =>
        ConsolePages.Message(context, StatusCodes.Status403Forbidden, "For auditors and admins",
            ["The audit trail is for auditors and admins (admin.auditorGroups, admin.adminGroups)."], "/", "Back to the inbox");

    private static async Task<IResult> AuditPageAsync(HttpContext context, IAuditStore store, AuditCheckpointService checkpoints, AuditVerification? verification, bool busy,
        int status = StatusCodes.Status200OK)
    {
        if (!MayAudit(context))
        {
            return NotAnAuditor(context);
        }

        var list = await store.ListAuditCheckpointsAsync(context.RequestAborted);
        var model = new AuditModel(ConsolePages.Frame(context), list, checkpoints.KeyId, checkpoints.VerificationKeys is not null, verification, busy);
        return ConsolePages.Page<AuditPage>(new { Model = model }, status);
    }
}
