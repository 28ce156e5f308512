using System.Security.Cryptography;
using Cue.Contracts;
using Cue.Encryption;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Encryption;

/// <summary>The envelope as pure logic: AES-256-GCM sealing bound to account and field, and key wrapping under a master key.</summary>
public sealed class Sealing_and_wrapping
{
    private const string Clear = "{\"note\":\"the payload ü 🚀\"}";

    [Test]
    public void A_sealed_value_opens_to_what_was_sealed_and_does_not_show_it()
    {
        var cipher = TestCiphers.New();
        var sealedValue = cipher.Seal(SealedFields.Payload, Clear);
        Assert.Multiple(() =>
        {
            Assert.That(sealedValue.Value, Does.StartWith("v1:").And.Not.Contain("payload"));
            Assert.That(cipher.Open(SealedFields.Payload, sealedValue), Is.EqualTo(Clear));
            Assert.That(cipher.Open(SealedFields.Payload, cipher.Seal(SealedFields.Payload, "")), Is.Empty);
            Assert.That(cipher.Seal(SealedFields.Payload, null), Is.Null);
            Assert.That(cipher.Open(SealedFields.Payload, null), Is.Null);
        });
    }

    [Test]
    public void Sealing_the_same_text_twice_gives_different_ciphertexts()
    {
        var cipher = TestCiphers.New();
        var first = cipher.Seal(SealedFields.Email, "a@example.com");
        var second = cipher.Seal(SealedFields.Email, "a@example.com");
        Assert.That(first.Value, Is.Not.EqualTo(second.Value));
    }

    [Test]
    public void Flipping_any_byte_of_a_sealed_value_makes_it_fail_to_open()
    {
        var cipher = TestCiphers.New();
        var bytes = Convert.FromBase64String(cipher.Seal(SealedFields.Payload, Clear).Value["v1:".Length..]);
        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;
            var value = new Sealed("v1:" + Convert.ToBase64String(tampered));
            Assert.That(() => cipher.Open(SealedFields.Payload, value), Throws.InstanceOf<CryptographicException>(), $"byte {i} flipped");
        }
    }

    [Test]
    public void A_value_of_another_account_does_not_open_even_with_the_same_key_bytes()
    {
        var mine = TestCiphers.New();
        var sealedValue = mine.Seal(SealedFields.Payload, Clear);
        Assert.Multiple(() =>
        {
            // Another account's data key.
            Assert.That(() => TestCiphers.New().Open(SealedFields.Payload, sealedValue), Throws.InstanceOf<CryptographicException>());
            // The associated data alone binds it to the account: the same key under another account id fails too.
            var key = RandomNumberGenerator.GetBytes(Envelope.KeyBytes);
            var sealedForA = new AccountCipher(Guid.NewGuid(), key).Seal(SealedFields.Payload, Clear);
            Assert.That(() => new AccountCipher(Guid.NewGuid(), key).Open(SealedFields.Payload, sealedForA), Throws.InstanceOf<CryptographicException>());
        });
    }

    [Test]
    public void A_value_moved_to_another_field_does_not_open()
    {
        var cipher = TestCiphers.New();
        var secret = cipher.Seal(SealedFields.WebhookSecret, "whsec_abc");
        Assert.Multiple(() =>
        {
            Assert.That(() => cipher.Open(SealedFields.Description, secret), Throws.InstanceOf<CryptographicException>());
            Assert.That(cipher.Open(SealedFields.WebhookSecret, secret), Is.EqualTo("whsec_abc"));
        });
    }

    [TestCase("whsec_plain")]
    [TestCase("v2:AAAA")]
    [TestCase("v1:not base64!")]
    [TestCase("v1:AAAA")]
    public void Text_that_is_not_a_sealed_value_is_refused(string text) =>
        Assert.That(() => TestCiphers.New().Open(SealedFields.WebhookSecret, new Sealed(text)), Throws.InstanceOf<CryptographicException>());

    [Test]
    public void Headers_are_sealed_as_one_value_names_included()
    {
        var cipher = TestCiphers.New();
        var headers = new Dictionary<string, string> { ["X-Team-Token"] = "t0ken", ["X-Other"] = "2" };
        var sealedHeaders = SealedHeaders.Seal(cipher, headers);
        Assert.Multiple(() =>
        {
            Assert.That(sealedHeaders.Value, Does.Not.Contain("X-Team-Token").And.Not.Contain("t0ken"));
            Assert.That(SealedHeaders.Open(cipher, sealedHeaders), Is.EqualTo(headers));
        });
    }

    [Test]
    public void A_wrapped_key_unwraps_only_under_its_master_key_and_for_its_owner()
    {
        var master = MasterKey.Parse(MasterKey.NewBase64())!;
        var other = MasterKey.Parse(MasterKey.NewBase64())!;
        var dataKey = RandomNumberGenerator.GetBytes(Envelope.KeyBytes);
        var wrapped = master.Wrap(dataKey, "account|a");
        Assert.Multiple(() =>
        {
            Assert.That(wrapped, Has.Length.EqualTo(Envelope.NonceBytes + Envelope.KeyBytes + Envelope.TagBytes));
            Assert.That(master.Unwrap(wrapped, "account|a"), Is.EqualTo(dataKey));
            Assert.That(() => other.Unwrap(wrapped, "account|a"), Throws.InstanceOf<CryptographicException>());
            Assert.That(() => master.Unwrap(wrapped, "account|b"), Throws.InstanceOf<CryptographicException>());
            Assert.That(master.Id, Is.Not.EqualTo(other.Id).And.Length.EqualTo(16));
        });
    }

    [Test]
    public void Rewrapping_under_a_new_master_key_keeps_the_data_key_and_the_old_master_key_no_longer_opens_it()
    {
        var old = MasterKey.Parse(MasterKey.NewBase64())!;
        var next = MasterKey.Parse(MasterKey.NewBase64())!;
        var accountId = Guid.NewGuid();
        var dataKey = RandomNumberGenerator.GetBytes(Envelope.KeyBytes);
        var sealedBefore = new AccountCipher(accountId, dataKey).Seal(SealedFields.Payload, Clear);

        var rewrapped = next.Wrap(old.Unwrap(old.Wrap(dataKey, "account|x"), "account|x"), "account|x");
        var unwrapped = next.Unwrap(rewrapped, "account|x");
        Assert.Multiple(() =>
        {
            Assert.That(new AccountCipher(accountId, unwrapped).Open(SealedFields.Payload, sealedBefore), Is.EqualTo(Clear), "data sealed before the rotation opens");
            Assert.That(() => old.Unwrap(rewrapped, "account|x"), Throws.InstanceOf<CryptographicException>());
        });
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("c2hvcnQ=")]
    [TestCase("not base64 at all")]
    [TestCase("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    public void A_master_key_that_is_not_32_bytes_of_base64_is_refused_naming_the_setting(string? value)
    {
        Assert.That(MasterKey.Parse(value), Is.Null);
        var result = new EncryptionOptionsValidator().Validate(null, new EncryptionOptions { MasterKey = value });
        Assert.Multiple(() =>
        {
            Assert.That(result.Failed, Is.True);
            Assert.That(result.FailureMessage, Does.Contain("Encryption:MasterKey").And.Contain("Encryption__MasterKey"));
        });
    }

    [Test]
    public void A_master_key_of_32_bytes_is_accepted_with_or_without_a_previous_one()
    {
        var validator = new EncryptionOptionsValidator();
        var key = MasterKey.NewBase64();
        Assert.Multiple(() =>
        {
            Assert.That(validator.Validate(null, new EncryptionOptions { MasterKey = key }).Succeeded, Is.True);
            Assert.That(validator.Validate(null, new EncryptionOptions { MasterKey = key, PreviousMasterKey = MasterKey.NewBase64() }).Succeeded, Is.True);
            Assert.That(validator.Validate(null, new EncryptionOptions { MasterKey = key, PreviousMasterKey = "short" }).FailureMessage,
                Does.Contain("Encryption:PreviousMasterKey"));
        });
    }
}
