using System.Globalization;
using System.Text;
using Cue.Contracts;

namespace Cue.Delivery.Signing;

/// <summary>The canonical webhook body of contract §9.2; these exact bytes are sent and signed.</summary>
public static class WebhookBody
{
    /// <param name="canonicalPayload">The payload snapshot, already in <see cref="CanonicalJson"/> form; embedded verbatim.</param>
    public static byte[] Build(int attempt, string cueId, Guid executionId, string name, string canonicalPayload, DateTimeOffset scheduledFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        if (!canonicalPayload.StartsWith('{') || !canonicalPayload.EndsWith('}') || !Ascii.IsValid(canonicalPayload))
        {
            throw new ArgumentException("The payload must be a canonical JSON object.", nameof(canonicalPayload));
        }

        // Keys in code point order, as CanonicalJson would sort them.
        var body = new StringBuilder(canonicalPayload.Length + 200)
            .Append("{\"attempt\": ").Append(attempt.ToString(CultureInfo.InvariantCulture))
            .Append(", \"cue_id\": ").Append(CanonicalJson.Quote(cueId))
            .Append(", \"execution_id\": \"").Append(executionId.ToString("D")).Append('"')
            .Append(", \"name\": ").Append(CanonicalJson.Quote(name))
            .Append(", \"payload\": ").Append(canonicalPayload)
            .Append(", \"scheduled_for\": \"").Append(Timestamps.ToWire(scheduledFor)).Append("\"}");
        return Encoding.ASCII.GetBytes(body.ToString());
    }
}
