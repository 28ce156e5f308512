using System.Text;
using Cue.Delivery.Signing;
using NUnit.Framework;

namespace Cue.Tests.Delivery;

// Every expected value is copied from contract §9.2–9.4.
public sealed class Signing_a_webhook
{
    private const string ContractBody =
        "{\"attempt\": 1, \"cue_id\": \"cue_a1b2c3d4e5f6\", \"execution_id\": \"6f1c2a9e-0b7d-4c55-9a3e-2d8f4b1e7c90\", "
        + "\"name\": \"daily-report\", \"payload\": {\"n\": 2, \"note\": \"caf\\u00e9\", \"task\": \"report\"}, "
        + "\"scheduled_for\": \"2026-03-20T16:00:00.000Z\"}";

    private const string Secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string PreviousSecret = "whsec_fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    private const long Timestamp = 1774022400;
    private const string Expected = "v1=52cf4e4e3903d5012d7bf69ce4a102f3fb9bf36ef5080dd149f38072bdcb1376";
    private const string ExpectedWithPrevious = "v1=b7f3585e29ab47a1ab78ebb85c1c1ce3990192428d7e1b6627d89585369db401";

    private static byte[] ContractExampleBody()
    {
        Assert.That(
            CanonicalJson.TryCanonicalize("{\"task\": \"report\", \"n\": 2, \"note\": \"caf\u00e9\"}"u8, out var payload, out _),
            Is.True);
        return WebhookBody.Build(
            attempt: 1,
            cueId: "cue_a1b2c3d4e5f6",
            executionId: Guid.Parse("6f1c2a9e-0b7d-4c55-9a3e-2d8f4b1e7c90"),
            name: "daily-report",
            canonicalPayload: payload!,
            scheduledFor: new DateTimeOffset(2026, 3, 20, 16, 0, 0, TimeSpan.Zero));
    }

    [Test]
    public void Builds_the_contract_example_body_byte_for_byte()
    {
        var body = ContractExampleBody();
        Assert.That(Encoding.ASCII.GetString(body), Is.EqualTo(ContractBody));
        Assert.That(body, Has.Length.EqualTo(229));
    }

    [Test]
    public void Writes_scheduled_for_in_utc_with_truncated_milliseconds()
    {
        var body = WebhookBody.Build(2, "cue_x", Guid.Empty, "n", "{}", new DateTimeOffset(2026, 3, 20, 17, 0, 0, 123, TimeSpan.FromHours(1)).AddTicks(9999));
        Assert.That(
            Encoding.ASCII.GetString(body),
            Is.EqualTo("{\"attempt\": 2, \"cue_id\": \"cue_x\", \"execution_id\": \"00000000-0000-0000-0000-000000000000\", \"name\": \"n\", \"payload\": {}, \"scheduled_for\": \"2026-03-20T16:00:00.123Z\"}"));
    }

    [Test]
    public void Escapes_the_cue_name_canonically()
    {
        var body = WebhookBody.Build(1, "cue_x", Guid.Empty, "r\u00e9sum\u00e9 \"daily\"", "{}", DateTimeOffset.UnixEpoch);
        Assert.That(Encoding.ASCII.GetString(body), Does.Contain("\"name\": \"r\\u00e9sum\\u00e9 \\\"daily\\\"\""));
    }

    [Test]
    public void Refuses_a_payload_that_is_not_a_canonical_object() =>
        Assert.That(
            () => WebhookBody.Build(1, "cue_x", Guid.Empty, "n", "[1]", DateTimeOffset.UnixEpoch),
            Throws.ArgumentException);

    [Test]
    public void Matches_the_contract_test_vector() =>
        Assert.That(WebhookSigner.Signature(Secret, Timestamp, ContractExampleBody()), Is.EqualTo(Expected));

    [Test]
    public void Matches_the_contract_rotation_header() =>
        Assert.That(
            WebhookSigner.Header([Secret, PreviousSecret], Timestamp, ContractExampleBody()),
            Is.EqualTo(Expected + " " + ExpectedWithPrevious));

    [Test]
    public void Has_a_single_entry_outside_rotation() =>
        Assert.That(WebhookSigner.Header([Secret], Timestamp, ContractExampleBody()), Is.EqualTo(Expected));

    [Test]
    public void Signs_the_empty_body_of_a_GET() =>
        Assert.That(
            WebhookSigner.Signature(Secret, Timestamp, []),
            Does.Match("^v1=[0-9a-f]{64}$").And.Not.EqualTo(Expected));

    [Test]
    public void Verifies_with_either_secret_during_rotation()
    {
        var body = ContractExampleBody();
        var header = Expected + " " + ExpectedWithPrevious;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(WebhookSigner.Verify(header, [Secret], Timestamp, body), Is.True);
            Assert.That(WebhookSigner.Verify(header, [PreviousSecret], Timestamp, body), Is.True);
            Assert.That(WebhookSigner.Verify(ExpectedWithPrevious, [Secret, PreviousSecret], Timestamp, body), Is.True);
            Assert.That(WebhookSigner.Verify(Expected, [Secret], Timestamp, body), Is.True);
        }
    }

    [Test]
    public void Rejects_a_tampered_body_timestamp_secret_or_header()
    {
        var body = ContractExampleBody();
        var tampered = (byte[])body.Clone();
        tampered[^4] = (byte)'1'; // "…16:00:00.000Z" becomes "…16:00:00.001Z"
        using (Assert.EnterMultipleScope())
        {
            Assert.That(WebhookSigner.Verify(Expected, [Secret], Timestamp, tampered), Is.False);
            Assert.That(WebhookSigner.Verify(Expected, [Secret], Timestamp + 1, body), Is.False);
            Assert.That(WebhookSigner.Verify(Expected, [PreviousSecret], Timestamp, body), Is.False);
            Assert.That(WebhookSigner.Verify(Expected.ToUpperInvariant(), [Secret], Timestamp, body), Is.False);
            Assert.That(WebhookSigner.Verify(Expected[3..], [Secret], Timestamp, body), Is.False);
            Assert.That(WebhookSigner.Verify("", [Secret], Timestamp, body), Is.False);
        }
    }
}
