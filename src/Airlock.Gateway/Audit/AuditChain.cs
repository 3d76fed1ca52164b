using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Airlock.Gateway.Audit;

/// <summary>
/// The hash chain: how an event is put in canonical form, hashed, and linked to the one before.
/// <code>
/// hash(n) = "sha256:" + hex(SHA-256(JCS(event n without its "hash" member)))
/// event n's "prevHash" = hash(n-1); event 1's is "sha256:" + 64 zeros
/// </code>
/// Changing, removing, inserting or reordering an event breaks a link; a signed checkpoint of
/// (count, head hash) exposes a truncated tail or a rewrite of the whole chain.
/// </summary>
internal static class AuditChain
{
    public const string Genesis = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Times are UTC with microseconds, so they survive a round trip through any store.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    public static string FormatTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Gives pending events their positions and hashes, after the chain's head.</summary>
    public static IReadOnlyList<(AuditEvent Event, byte[] Canonical)> Seal(IReadOnlyList<AuditEvent> pending, long headSeq, string headHash)
    {
        var sealedEvents = new List<(AuditEvent, byte[])>(pending.Count);
        var seq = headSeq;
        var prev = headHash;
        foreach (var e in pending)
        {
            var linked = e with { Seq = ++seq, At = Truncate(e.At), PrevHash = prev, Hash = "" };
            var canonical = Canonicalize(linked);
            var hash = HashOf(canonical);
            sealedEvents.Add((linked with { Hash = hash }, canonical));
            prev = hash;
        }

        return sealedEvents;
    }

    public static string HashOf(ReadOnlySpan<byte> canonical) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(canonical));

    /// <summary>The canonical bytes of an event without its hash: what its hash is over.</summary>
    public static byte[] Canonicalize(AuditEvent e) => Write(e, includeHash: false);

    /// <summary>The event as one canonical JSON object, its hash included (export lines).</summary>
    public static byte[] CanonicalizeWithHash(AuditEvent e) => Write(e, includeHash: true);

    /// <summary>
    /// Writes the event's members straight out in RFC 8785 order (by UTF-16 code units), with
    /// no tree in between: this runs once for every event on a request's path. The order is
    /// fixed by the member names below; <c>Detail</c> is already sorted ordinally, as RFC 8785
    /// sorts. A test checks the result against <see cref="CanonicalJson.Obj"/>'s sorted tree.
    /// </summary>
    private static byte[] Write(AuditEvent e, bool includeHash)
    {
        var json = new CanonicalJson();
        json.Punctuation('{');
        json.Name("actor", first: true);
        if (e.Actor is { } a)
        {
            json.Punctuation('{');
            json.Name("authMethod", first: true);
            json.Text(a.AuthMethod);
            json.Name("groups");
            json.Strings(a.Groups);
            json.Name("subject");
            json.Text(a.Subject);
            json.Punctuation('}');
        }
        else
        {
            json.Null();
        }

        json.Name("at");
        json.Text(FormatTime(e.At));
        json.Name("detail");
        json.Punctuation('{');
        var first = true;
        foreach (var (key, value) in e.Detail)
        {
            json.Name(key, first);
            first = false;
            json.Text(value);
        }

        json.Punctuation('}');
        if (includeHash)
        {
            json.Name("hash");
            json.Text(e.Hash);
        }

        json.Name("kind");
        json.Text(e.Kind);
        json.Name("outcome");
        json.Text(e.Outcome);
        json.Name("policyVersion");
        json.Text(e.PolicyVersion);
        json.Name("prevHash");
        json.Text(e.PrevHash);
        json.Name("reviewId");
        json.Text(e.ReviewId?.ToString());
        json.Name("rule");
        json.Text(e.Rule);
        json.Name("seq");
        json.Number(e.Seq);
        json.Name("sessionId");
        json.Text(e.SessionId?.ToString());
        json.Name("target");
        if (e.Target is { } t)
        {
            json.Punctuation('{');
            json.Name("connection", first: true);
            json.Text(t.Connection);
            json.Name("method");
            json.Text(t.Method);
            json.Name("path");
            json.Text(t.Path);
            json.Punctuation('}');
        }
        else
        {
            json.Null();
        }

        json.Punctuation('}');
        return json.Written.ToArray();
    }

    /// <summary>Reads an event back from its canonical JSON (with or without its hash member).</summary>
    public static AuditEvent Parse(ReadOnlySpan<byte> json, string? hash = null)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        static string? Text(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        AuditActor? actor = null;
        if (root.TryGetProperty("actor", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            actor = new AuditActor(Text(a, "subject") ?? "", [.. a.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!)], Text(a, "authMethod") ?? "");
        }

        AuditTarget? target = null;
        if (root.TryGetProperty("target", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            target = new AuditTarget(Text(t, "connection"), Text(t, "method"), Text(t, "path"));
        }

        var detail = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in d.EnumerateObject())
            {
                detail[p.Name] = p.Value.GetString() ?? "";
            }
        }

        return new AuditEvent
        {
            Seq = root.GetProperty("seq").GetInt64(),
            At = DateTimeOffset.Parse(root.GetProperty("at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            Kind = root.GetProperty("kind").GetString()!,
            Actor = actor,
            Target = target,
            Rule = Text(root, "rule"),
            PolicyVersion = Text(root, "policyVersion"),
            ReviewId = Text(root, "reviewId") is { } r ? Guid.Parse(r) : null,
            SessionId = Text(root, "sessionId") is { } s ? Guid.Parse(s) : null,
            Outcome = root.GetProperty("outcome").GetString()!,
            Detail = detail.ToImmutable(),
            PrevHash = Text(root, "prevHash") ?? "",
            Hash = hash ?? Text(root, "hash") ?? "",
        };
    }
}
