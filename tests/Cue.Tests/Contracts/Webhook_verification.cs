using System.Text;
using System.Text.Json;
using Cue.Contracts.Webhooks;
using Cue.Delivery.Signing;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Contracts;

/// <summary>
/// The published vectors (docs/webhook-test-vectors.json) hold both sides to one truth: Cue's signer must
/// produce every genuine header, and the receiver-side verifier must give every verdict.
/// </summary>
public sealed class Webhook_verification
{
    private const string Secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string PreviousSecret = "whsec_fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    private const long Timestamp = 1774022400;
    private const string Expected = "v1=52cf4e4e3903d5012d7bf69ce4a102f3fb9bf36ef5080dd149f38072bdcb1376";
    private const string RotationHeader = Expected + " v1=b7f3585e29ab47a1ab78ebb85c1c1ce3990192428d7e1b6627d89585369db401";
    private static readonly DateTimeOffset SignedAt = DateTimeOffset.FromUnixTimeSeconds(Timestamp);

    public sealed record Vector(
        string Name, string[] Secrets, string Timestamp, byte[] Body, string Signature, long Now, string Expected, string[]? SignedWith)
    {
        public override string ToString() => Name;
    }

    public static string VectorsFile => Path.Combine(Paths.RepositoryRoot, "docs", "webhook-test-vectors.json");

    public static IReadOnlyList<Vector> Vectors { get; } = Load();

    private static Vector[] Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(VectorsFile));
        return
        [
            .. document.RootElement.GetProperty("vectors").EnumerateArray().Select(v => new Vector(
                v.GetProperty("name").GetString()!,
                [.. v.GetProperty("secrets").EnumerateArray().Select(s => s.GetString()!)],
                v.GetProperty("timestamp").GetString()!,
                Encoding.UTF8.GetBytes(v.GetProperty("body").GetString()!),
                v.GetProperty("signature").GetString()!,
                v.GetProperty("now").GetInt64(),
                v.GetProperty("expected").GetString()!,
                v.TryGetProperty("signed_with", out var signedWith) ? [.. signedWith.EnumerateArray().Select(s => s.GetString()!)] : null)),
        ];
    }

    private static byte[] Body => Vectors.Single(v => v.Name == "contract_example").Body;

    private static IEnumerable<Vector> Signed => Vectors.Where(v => v.SignedWith is not null);

    [Test]
    public void The_vectors_cover_the_contract_and_every_verdict()
    {
        var contract = Vectors.Single(v => v.Name == "contract_example");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(contract.Signature, Is.EqualTo(Expected));
            Assert.That(contract.Body, Has.Length.EqualTo(229));
            Assert.That(Vectors.Single(v => v.Name == "rotation_previous_secret").Signature, Is.EqualTo(RotationHeader));
            Assert.That(Vectors.Select(v => v.Expected).Distinct(), Is.EquivalentTo(Enum.GetValues<WebhookVerdict>().Select(Snake)));
            Assert.That(Vectors.Select(v => v.Name), Is.Unique);
            Assert.That(Vectors.SelectMany(v => v.Body), Has.All.LessThan(0x80), "canonical bodies are pure ASCII");
        }
    }

    [TestCaseSource(nameof(Signed))]
    public void The_signer_produces_the_published_header(Vector vector) =>
        Assert.That(WebhookSigner.Header(vector.SignedWith!, long.Parse(vector.Timestamp), vector.Body), Is.EqualTo(vector.Signature));

    [TestCaseSource(nameof(Vectors))]
    public void The_verifier_gives_the_published_verdict(Vector vector) =>
        Assert.That(
            Snake(WebhookVerifier.Verify(vector.Signature, vector.Timestamp, vector.Body, vector.Secrets, DateTimeOffset.FromUnixTimeSeconds(vector.Now))),
            Is.EqualTo(vector.Expected));

    [Test]
    public void Accepts_a_rotation_header_with_either_secret_and_refuses_a_stranger()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Verify(RotationHeader, [Secret]), Is.EqualTo(WebhookVerdict.Valid));
            Assert.That(Verify(RotationHeader, [PreviousSecret]), Is.EqualTo(WebhookVerdict.Valid));
            Assert.That(Verify(RotationHeader, [PreviousSecret, Secret]), Is.EqualTo(WebhookVerdict.Valid));
            Assert.That(Verify(RotationHeader, ["whsec_someone_else"]), Is.EqualTo(WebhookVerdict.NoMatch));
            Assert.That(Verify(RotationHeader, []), Is.EqualTo(WebhookVerdict.NoMatch));
        }
    }

    [TestCase(-301, WebhookVerdict.TooNew)]
    [TestCase(-300, WebhookVerdict.Valid)]
    [TestCase(0, WebhookVerdict.Valid)]
    [TestCase(300, WebhookVerdict.Valid)]
    [TestCase(301, WebhookVerdict.TooOld)]
    public void Keeps_a_300_second_window_on_each_side(int receivedSecondsAfterSigning, WebhookVerdict verdict) =>
        Assert.That(Verify(Expected, [Secret], SignedAt.AddSeconds(receivedSecondsAfterSigning)), Is.EqualTo(verdict));

    [Test]
    public void Measures_the_window_to_the_tick_and_honours_a_custom_tolerance()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Verify(Expected, [Secret], SignedAt.AddSeconds(300).AddTicks(1)), Is.EqualTo(WebhookVerdict.TooOld));
            Assert.That(Verify(Expected, [Secret], SignedAt.AddSeconds(-300).AddTicks(-1)), Is.EqualTo(WebhookVerdict.TooNew));
            Assert.That(WebhookVerifier.Verify(Expected, "1774022400", Body, [Secret], SignedAt.AddSeconds(31), TimeSpan.FromSeconds(30)), Is.EqualTo(WebhookVerdict.TooOld));
            Assert.That(WebhookVerifier.Verify(Expected, "1774022400", Body, [Secret], SignedAt.AddSeconds(30), TimeSpan.FromSeconds(30)), Is.EqualTo(WebhookVerdict.Valid));
        }
    }

    [Test]
    public void Tolerates_spaces_around_the_entries_and_the_timestamp()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(WebhookVerifier.Verify("  " + Expected + "\t ", " 1774022400\t", Body, [Secret], SignedAt), Is.EqualTo(WebhookVerdict.Valid));
            Assert.That(WebhookVerifier.Verify(Expected + "   v1=00 v2=" + Expected[3..], "1774022400", Body, [Secret], SignedAt), Is.EqualTo(WebhookVerdict.Valid));
        }
    }

    private static readonly string[] HostileSignatures =
    [
        "v1=", "v1", "=", "v1==", " ", "\t\r\n", "v1=" + Expected, "v1=" + Expected[3..] + "00", "v1=" + Expected[3..^1],
        "v1=" + Expected[3..^1] + "g", "v1=" + Expected[3..] + "\u0000", "V1=" + Expected[3..], "v1=\ud83d\ude00", "\ud800",
        Expected + "," + Expected, new string('v', 1 << 20), string.Concat(Enumerable.Repeat("v1=" + new string('a', 64) + " ", 20_000)),
    ];

    private static readonly string?[] HostileTimestamps =
    [
        null, "", " ", "-1774022400", "+1774022400", "1774022400.0", "1.7e9", "0x69BD6D00", "１７７４０２２４００", "99999999999999999999999",
        "177402240O", "1774022400 1774022400", "\u0000", new string('9', 1 << 20), "0", "99999999999",
    ];

    [Test]
    public void Never_throws_on_hostile_headers([ValueSource(nameof(HostileSignatures))] string signature)
    {
        foreach (var timestamp in HostileTimestamps)
        {
            WebhookVerdict verdict = default;
            Assert.That(() => verdict = WebhookVerifier.Verify(signature, timestamp, Body, [Secret, ""], SignedAt), Throws.Nothing, $"timestamp {timestamp?[..Math.Min(timestamp.Length, 20)]}");
            Assert.That(verdict, Is.Not.EqualTo(WebhookVerdict.Valid));
        }
    }

    [Test]
    public void Refuses_a_missing_header_before_looking_at_anything_else()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(WebhookVerifier.Verify(null, null, Body, [Secret], SignedAt), Is.EqualTo(WebhookVerdict.MissingSignature));
            Assert.That(WebhookVerifier.Verify(" \t", "1774022400", Body, [Secret], SignedAt), Is.EqualTo(WebhookVerdict.MissingSignature));
            Assert.That(WebhookVerifier.Verify(Expected, null, Body, [Secret], SignedAt), Is.EqualTo(WebhookVerdict.MalformedTimestamp));
        }
    }

    private static WebhookVerdict Verify(string header, string[] secrets, DateTimeOffset? now = null) =>
        WebhookVerifier.Verify(header, Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), Body, secrets, now ?? SignedAt);

    private static string Snake(WebhookVerdict verdict) => verdict switch
    {
        WebhookVerdict.Valid => "valid",
        WebhookVerdict.MissingSignature => "missing_signature",
        WebhookVerdict.MalformedTimestamp => "malformed_timestamp",
        WebhookVerdict.TooOld => "too_old",
        WebhookVerdict.TooNew => "too_new",
        WebhookVerdict.NoMatch => "no_match",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };
}
