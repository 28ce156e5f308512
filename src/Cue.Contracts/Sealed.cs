using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cue.Contracts;

/// <summary>
/// A value encrypted at rest: <c>v1:</c> and the base64 of nonce, ciphertext and tag (AES-256-GCM under the
/// owning account's data key, bound to the account and the field it belongs to). Data only: the services
/// seal and open it; here it is just text that can be stored and copied. Stored as a plain JSON string.
/// </summary>
[JsonConverter(typeof(SealedJsonConverter))]
public sealed record Sealed(string Value)
{
    public override string ToString() => Value;
}

/// <summary>Writes a <see cref="Sealed"/> as its text, so stored events and documents hold a short string, not an object.</summary>
public sealed class SealedJsonConverter : JsonConverter<Sealed>
{
    public override Sealed Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
            ? new Sealed(reader.GetString()!)
            : throw new JsonException("A sealed value is a JSON string.");

    public override void Write(Utf8JsonWriter writer, Sealed value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}
