using Airlock.Gateway.Admin;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Who sees and who ends a grant, for the admin API and the console alike. Admins and auditors
/// see every grant, people the ones they granted or hold; admins and the approvers who granted it
/// revoke it, and the revocation is an audit event naming who.
/// </summary>
internal static class GrantRevocation
{
    public enum Outcome
    {
        Revoked,

        /// <summary>No such grant, or not one the caller may revoke (the same answer: a grant's
        /// existence is not told to who may not see it).</summary>
        NotFound,

        /// <summary>It had already ended or been revoked.</summary>
        AlreadyEnded,
    }

    public static bool MaySee(AdminCaller caller, Grant grant) =>
        caller.Has(AdminRoles.Admin | AdminRoles.Auditor) || grant.GrantedBy.Contains(caller.Identity.Subject) || grant.Subject == caller.Identity.Subject;

    public static bool MayRevoke(AdminCaller caller, Grant grant) =>
        caller.Has(AdminRoles.Admin) || grant.GrantedBy.Contains(caller.Identity.Subject);

    public static async Task<(Outcome Outcome, Grant? Grant)> RevokeAsync(AdminCaller caller, Guid id, IReviewStore store, TimeProvider time, AuditTrail audit,
        CancellationToken cancellationToken)
    {
        var grant = await store.GetGrantAsync(id, cancellationToken);
        if (grant is null || !MayRevoke(caller, grant))
        {
            return (Outcome.NotFound, null);
        }

        var revoked = await store.RevokeGrantAsync(id, caller.Identity.Subject, time.GetUtcNow(), cancellationToken);
        if (revoked is null)
        {
            return (Outcome.AlreadyEnded, grant);
        }

        var recorded = audit.Event(AuditKinds.GrantRevoked, "revoked", AuditTrail.ActorOf(caller.Identity),
            new Dictionary<string, string> { ["grantId"] = revoked.Id.ToString(), ["subject"] = revoked.Subject, ["reviewId"] = revoked.ReviewId.ToString() },
            revoked.Connection, revoked.Rule) with { ReviewId = revoked.ReviewId };
        try
        {
            await audit.RecordAsync(recorded, cancellationToken);
        }
        catch (AuditUnavailableException)
        {
            // The grant is revoked (the safe direction): the event is queued to be written later.
            audit.Record(recorded);
        }

        return (Outcome.Revoked, revoked);
    }
}
