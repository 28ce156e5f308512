using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cue.Scheduler.Occurrences;

/// <summary>
/// Deterministic execution ids, so that a scheduled occurrence produced twice (a retried job, a second
/// scheduler node) maps to the same execution and is recorded once.
/// </summary>
public static class ExecutionIds
{
    /// <summary>Cue's own RFC 9562 namespace for scheduled occurrences. Never change it: ids would change.</summary>
    public static readonly Guid ScheduledNamespace = new("e534a768-300c-4b9c-acd0-bc805172e2ea");

    /// <summary>The id of the execution for <paramref name="cueId"/>'s occurrence at <paramref name="scheduledFor"/> (millisecond precision).</summary>
    public static Guid ForScheduled(string cueId, DateTimeOffset scheduledFor)
    {
        ArgumentException.ThrowIfNullOrEmpty(cueId);
        var instant = scheduledFor.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        return NameBased(ScheduledNamespace, $"{cueId}|{instant}|scheduled");
    }

    /// <summary>An RFC 9562 version 5 (SHA-1, name-based) UUID of the UTF-8 <paramref name="name"/> in <paramref name="namespaceId"/>.</summary>
    [SuppressMessage("Security", "CA5350:Do not use weak cryptographic algorithms", Justification = "RFC 9562 defines version 5 over SHA-1; the id is an identifier, not a security property.")]
    public static Guid NameBased(Guid namespaceId, string name)
    {
        var nameLength = Encoding.UTF8.GetByteCount(name);
        var input = new byte[16 + nameLength];
        namespaceId.TryWriteBytes(input, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input.AsSpan(16));

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input, hash);
        var uuid = hash[..16];
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x50); // version 5
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // variant 10xx (RFC 9562)
        return new Guid(uuid, bigEndian: true);
    }
}
