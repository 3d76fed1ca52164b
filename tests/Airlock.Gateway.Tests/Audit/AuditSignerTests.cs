using System.Security.Cryptography;
using System.Text;
using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Tests.Audit;

public sealed class AuditSignerTests : IDisposable
{
    private static readonly string Head = "sha256:" + new string('c', 64);
    private readonly string _privatePem;
    private readonly string _publicPem;
    private readonly AuditSigner _signer;

    public AuditSignerTests()
    {
        (_privatePem, _publicPem) = AuditSigner.Generate();
        _signer = AuditSigner.FromPrivatePem(_privatePem, out var error)!;
        Assert.Null(error);
    }

    public void Dispose() => _signer.Dispose();

    [Fact]
    public void A_checkpoint_verifies_with_the_public_key_and_says_what_it_signs()
    {
        var checkpoint = _signer.Sign(42, Head, TestChain.T0.AddTicks(3));

        Assert.Null(AuditSigner.Verify(checkpoint, _publicPem));
        Assert.Equal(42, checkpoint.Count);
        Assert.Equal(Head, checkpoint.HeadHash);
        Assert.Equal(TestChain.T0, checkpoint.At);
        Assert.Equal("ES256", checkpoint.Algorithm);
        Assert.Equal(_signer.KeyId, checkpoint.KeyId);
        Assert.Equal(_publicPem, _signer.PublicPem());
        Assert.Equal(
            $$"""{"algorithm":"ES256","at":"2026-11-24T09:00:00.000000Z","count":42,"headHash":"{{Head}}","keyId":"{{_signer.KeyId}}","type":"airlock-audit-checkpoint"}""",
            Encoding.UTF8.GetString(checkpoint.SignedBytes()));
    }

    [Fact]
    public void The_signature_is_a_p1363_es256_signature_in_unpadded_base64url_checkable_with_plain_ecdsa()
    {
        var checkpoint = _signer.Sign(1, Head, TestChain.T0);

        Assert.Matches("^[A-Za-z0-9_-]{86}$", checkpoint.Signature);
        var signature = Convert.FromBase64String(checkpoint.Signature.Replace('-', '+').Replace('_', '/') + "==");
        using var key = ECDsa.Create();
        key.ImportFromPem(_publicPem);
        Assert.True(key.VerifyData(checkpoint.SignedBytes(), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void The_key_id_is_the_sha256_of_the_public_key_s_subject_public_key_info()
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(_publicPem);

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo())), _signer.KeyId);
    }

    [Fact]
    public void Any_change_to_a_signed_checkpoint_fails_verification()
    {
        var checkpoint = _signer.Sign(42, Head, TestChain.T0);
        var changed = new[]
        {
            checkpoint with { Count = 43 },
            checkpoint with { HeadHash = "sha256:" + new string('d', 64) },
            checkpoint with { At = checkpoint.At.AddSeconds(1) },
            checkpoint with { Signature = _signer.Sign(41, Head, TestChain.T0).Signature },
        };

        foreach (var c in changed)
        {
            Assert.Equal("the signature does not match the checkpoint: it was altered or signed by another key", AuditSigner.Verify(c, _publicPem));
        }
    }

    [Fact]
    public void A_checkpoint_does_not_verify_with_another_key()
    {
        var checkpoint = _signer.Sign(42, Head, TestChain.T0);
        var (otherPrivate, otherPublic) = AuditSigner.Generate();
        using var other = AuditSigner.FromPrivatePem(otherPrivate, out _)!;

        Assert.NotEqual(_signer.KeyId, other.KeyId);
        Assert.Contains($"signed by key {_signer.KeyId}, not by this public key ({other.KeyId})", AuditSigner.Verify(checkpoint, otherPublic), StringComparison.Ordinal);
        // Claiming the right key id does not help a signature made with the wrong key.
        var forged = other.Sign(42, Head, TestChain.T0) with { KeyId = _signer.KeyId };
        Assert.Contains("signature does not match", AuditSigner.Verify(forged, _publicPem), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_signatures_algorithms_and_keys_are_reported_not_thrown()
    {
        var checkpoint = _signer.Sign(1, Head, TestChain.T0);

        Assert.Equal("the signature is not base64url", AuditSigner.Verify(checkpoint with { Signature = "!!!" }, _publicPem));
        Assert.Contains("signature does not match", AuditSigner.Verify(checkpoint with { Signature = "AAAA" }, _publicPem), StringComparison.Ordinal);
        Assert.Equal("the checkpoint's algorithm RS256 is not ES256", AuditSigner.Verify(checkpoint with { Algorithm = "RS256" }, _publicPem));
        Assert.Equal("the public key is not a PEM ECDSA P-256 public key", AuditSigner.Verify(checkpoint, "not a key"));
    }

    [Fact]
    public void A_checkpoint_survives_its_json_form_and_still_verifies()
    {
        var checkpoint = _signer.Sign(7, Head, TestChain.T0.AddTicks(1234560));

        var parsed = AuditCheckpoint.Parse(Encoding.UTF8.GetString(checkpoint.ToJson()));

        Assert.Equal(checkpoint, parsed);
        Assert.Null(AuditSigner.Verify(parsed, _publicPem));
        Assert.Throws<FormatException>(() => AuditCheckpoint.Parse("{\"type\":\"something-else\"}"));
    }

    [Fact]
    public void Only_a_p256_private_key_can_sign()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Null(AuditSigner.FromPrivatePem("garbage", out var garbage));
        Assert.Equal("not a PEM private key", garbage);
        Assert.Null(AuditSigner.FromPrivatePem(p384.ExportPkcs8PrivateKeyPem(), out var wrongCurve));
        Assert.Equal("the key must be ECDSA on the P-256 curve", wrongCurve);
        Assert.Null(AuditSigner.FromPrivatePem(_publicPem, out var publicOnly));
        Assert.Contains("holds a public key", publicOnly, StringComparison.Ordinal);
        using var ecPrivate = ECDsa.Create();
        ecPrivate.ImportFromPem(_privatePem);
        using var sec1 = AuditSigner.FromPrivatePem(ecPrivate.ExportECPrivateKeyPem(), out var sec1Error);
        Assert.Null(sec1Error);
        Assert.Equal(_signer.KeyId, sec1!.KeyId);
    }

    [Fact]
    public void Generated_keys_are_distinct()
    {
        var keys = Enumerable.Range(0, 5).Select(_ => AuditSigner.Generate().PublicPem).ToList();

        Assert.Equal(5, keys.Distinct().Count());
    }
}
