using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Cue.Delivery.Signing;

/// <summary>
/// The byte-exact JSON form of contract §9.3: what Python's <c>json.dumps(obj, sort_keys=True)</c> writes,
/// because that is what CueAPI's SDK verifier recomputes before checking a signature.
/// </summary>
public static class CanonicalJson
{
    /// <summary>A top-level object or array is depth 1.</summary>
    public const int MaxDepth = 32;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        // Above our own limit so that we, not the reader, report excessive nesting.
        MaxDepth = MaxDepth * 2,
    };

    public static bool TryCanonicalize(
        ReadOnlySpan<byte> utf8Json,
        [NotNullWhen(true)] out string? canonical,
        [NotNullWhen(false)] out string? error)
    {
        var writer = new Writer(utf8Json.Length);
        try
        {
            var reader = new Utf8JsonReader(utf8Json, isFinalBlock: true, new JsonReaderState(ReaderOptions));
            reader.Read();
            writer.WriteValue(ref reader, depth: 0);
            // Anything after the top-level value other than whitespace makes the reader throw here.
            reader.Read();
            canonical = writer.ToAsciiString();
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            canonical = null;
            error = $"invalid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1})";
            return false;
        }
        catch (RejectedException e)
        {
            canonical = null;
            error = e.Message;
            return false;
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>For trees that are already valid values; throws <see cref="ArgumentException"/> otherwise.</summary>
    public static string Canonicalize(JsonNode? node)
    {
        if (node is null)
        {
            return "null";
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            node.WriteTo(json);
        }

        return TryCanonicalize(buffer.WrittenSpan, out var canonical, out var error)
            ? canonical
            : throw new ArgumentException($"The JSON value cannot be canonicalised: {error}.", nameof(node));
    }

    /// <summary>
    /// A JSON string literal for <paramref name="value"/> in canonical form. Escapes per UTF-16 code unit,
    /// as Python does with <c>ensure_ascii</c>.
    /// </summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\t': builder.Append("\\t"); break;
                case '\n': builder.Append("\\n"); break;
                case '\f': builder.Append("\\f"); break;
                case '\r': builder.Append("\\r"); break;
                case >= ' ' and <= '~': builder.Append(c); break;
                default: builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
            }
        }

        return builder.Append('"').ToString();
    }

    private sealed class RejectedException(string message) : Exception(message);

    private readonly record struct Member(int KeyStart, int KeyLength, int OutputStart, int OutputLength);

    private readonly struct KeyOrder(byte[] keys) : IComparer<Member>
    {
        // UTF-8 byte order is Unicode code point order, which is what Python's sort_keys uses.
        public int Compare(Member x, Member y) =>
            keys.AsSpan(x.KeyStart, x.KeyLength).SequenceCompareTo(keys.AsSpan(y.KeyStart, y.KeyLength));
    }

    private sealed class Writer(int inputLength) : IDisposable
    {
        private readonly ByteBuffer _output = new(inputLength + 64);
        private readonly ByteBuffer _keys = new(256);
        private readonly ByteBuffer _scratch = new(256);
        private readonly List<Member>?[] _members = new List<Member>?[MaxDepth];

        public string ToAsciiString() => Encoding.ASCII.GetString(_output.Written);

        public void Dispose()
        {
            _output.Dispose();
            _keys.Dispose();
            _scratch.Dispose();
        }

        public void WriteValue(ref Utf8JsonReader reader, int depth)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    WriteObject(ref reader, EnterContainer(depth));
                    break;
                case JsonTokenType.StartArray:
                    WriteArray(ref reader, EnterContainer(depth));
                    break;
                case JsonTokenType.String:
                    WriteString(reader.ValueSpan, reader.ValueIsEscaped);
                    break;
                case JsonTokenType.Number:
                    WriteNumber(reader.ValueSpan);
                    break;
                case JsonTokenType.True:
                    _output.Append("true"u8);
                    break;
                case JsonTokenType.False:
                    _output.Append("false"u8);
                    break;
                case JsonTokenType.Null:
                    _output.Append("null"u8);
                    break;
                default:
                    throw new RejectedException("invalid JSON");
            }
        }

        private static int EnterContainer(int depth) =>
            depth + 1 > MaxDepth ? throw new RejectedException($"nesting deeper than {MaxDepth} levels") : depth + 1;

        private void WriteArray(ref Utf8JsonReader reader, int depth)
        {
            _output.Append((byte)'[');
            var first = true;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (!first)
                {
                    _output.Append(", "u8);
                }

                first = false;
                WriteValue(ref reader, depth);
            }

            _output.Append((byte)']');
        }

        private void WriteObject(ref Utf8JsonReader reader, int depth)
        {
            var members = _members[depth - 1] ??= [];
            members.Clear();
            var keysStart = _keys.Length;
            var bodyStart = _output.Length + 1;
            _output.Append((byte)'{');

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var keyStart = _keys.Length;
                DecodeString(reader.ValueSpan, reader.ValueIsEscaped, _keys);
                var keyLength = _keys.Length - keyStart;

                if (members.Count > 0)
                {
                    _output.Append(", "u8);
                }

                var outputStart = _output.Length;
                WriteEscaped(_keys.Written.Slice(keyStart, keyLength));
                _output.Append(": "u8);
                reader.Read();
                WriteValue(ref reader, depth);
                // A nested object reuses deeper member lists only, so this list is still ours.
                members.Add(new Member(keyStart, keyLength, outputStart, _output.Length - outputStart));
            }

            if (members.Count > 1)
            {
                SortMembers(members, bodyStart);
            }

            _output.Append((byte)'}');
            _keys.Length = keysStart;
        }

        private void SortMembers(List<Member> members, int bodyStart)
        {
            var span = CollectionsMarshal.AsSpan(members);
            var order = new KeyOrder(_keys.Array);
            var alreadySorted = true;
            for (var i = 1; i < span.Length; i++)
            {
                if (order.Compare(span[i - 1], span[i]) >= 0)
                {
                    alreadySorted = false;
                    break;
                }
            }

            if (alreadySorted)
            {
                return;
            }

            span.Sort(order);
            for (var i = 1; i < span.Length; i++)
            {
                if (order.Compare(span[i - 1], span[i]) == 0)
                {
                    throw new RejectedException("duplicate key in an object");
                }
            }

            // Rewrite the members in key order; each member's bytes are already final.
            var bodyLength = _output.Length - bodyStart;
            var copy = ArrayPool<byte>.Shared.Rent(bodyLength);
            try
            {
                _output.Written.Slice(bodyStart, bodyLength).CopyTo(copy);
                _output.Length = bodyStart;
                for (var i = 0; i < span.Length; i++)
                {
                    if (i > 0)
                    {
                        _output.Append(", "u8);
                    }

                    _output.Append(copy.AsSpan(span[i].OutputStart - bodyStart, span[i].OutputLength));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        private void WriteString(ReadOnlySpan<byte> raw, bool escaped)
        {
            if (!escaped)
            {
                if (!Utf8.IsValid(raw))
                {
                    throw new RejectedException("invalid UTF-8 in a string");
                }

                WriteEscaped(raw);
                return;
            }

            _scratch.Length = 0;
            DecodeString(raw, escaped, _scratch);
            WriteEscaped(_scratch.Written);
        }

        /// <summary>Appends the string's value as validated UTF-8 to <paramref name="destination"/>.</summary>
        private static void DecodeString(ReadOnlySpan<byte> raw, bool escaped, ByteBuffer destination)
        {
            var start = destination.Length;
            if (!escaped)
            {
                destination.Append(raw);
            }
            else
            {
                Unescape(raw, destination);
            }

            if (!Utf8.IsValid(destination.Written[start..]))
            {
                throw new RejectedException("invalid UTF-8 in a string");
            }
        }

        // The reader has already checked the escape syntax; what it lets through and we refuse is
        // U+0000 and unpaired surrogates, which Python would echo but the contract rejects.
        private static void Unescape(ReadOnlySpan<byte> raw, ByteBuffer destination)
        {
            Span<byte> utf8 = stackalloc byte[4];
            var i = 0;
            while (i < raw.Length)
            {
                var backslash = raw[i..].IndexOf((byte)'\\');
                if (backslash < 0)
                {
                    destination.Append(raw[i..]);
                    return;
                }

                destination.Append(raw.Slice(i, backslash));
                i += backslash;
                var escape = raw[i + 1];
                i += 2;
                switch (escape)
                {
                    case (byte)'b': destination.Append((byte)'\b'); continue;
                    case (byte)'f': destination.Append((byte)'\f'); continue;
                    case (byte)'n': destination.Append((byte)'\n'); continue;
                    case (byte)'r': destination.Append((byte)'\r'); continue;
                    case (byte)'t': destination.Append((byte)'\t'); continue;
                    case (byte)'u': break;
                    default: destination.Append(escape); continue;
                }

                int scalar = Hex4(raw.Slice(i, 4));
                i += 4;
                if (char.IsLowSurrogate((char)scalar))
                {
                    throw new RejectedException("unpaired surrogate in a string");
                }

                if (char.IsHighSurrogate((char)scalar))
                {
                    if (i + 6 > raw.Length || raw[i] != '\\' || raw[i + 1] != 'u'
                        || !char.IsLowSurrogate((char)Hex4(raw.Slice(i + 2, 4))))
                    {
                        throw new RejectedException("unpaired surrogate in a string");
                    }

                    scalar = char.ConvertToUtf32((char)scalar, (char)Hex4(raw.Slice(i + 2, 4)));
                    i += 6;
                }
                else if (scalar == 0)
                {
                    throw new RejectedException("U+0000 in a string");
                }

                var length = new Rune(scalar).EncodeToUtf8(utf8);
                destination.Append(utf8[..length]);
            }
        }

        private static int Hex4(ReadOnlySpan<byte> hex) =>
            int.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

        private void WriteEscaped(ReadOnlySpan<byte> utf8)
        {
            _output.Append((byte)'"');
            Span<char> units = stackalloc char[2];
            var i = 0;
            while (i < utf8.Length)
            {
                var b = utf8[i];
                if (b is >= 0x20 and <= 0x7E and not (byte)'"' and not (byte)'\\')
                {
                    var run = utf8[i..].IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
                    var end = run < 0 ? utf8.Length : i + run;
                    var quoteOrBackslash = utf8[i..end].IndexOfAny((byte)'"', (byte)'\\');
                    if (quoteOrBackslash >= 0)
                    {
                        end = i + quoteOrBackslash;
                    }

                    _output.Append(utf8[i..end]);
                    i = end;
                    continue;
                }

                switch (b)
                {
                    case (byte)'"': _output.Append("\\\""u8); i++; continue;
                    case (byte)'\\': _output.Append("\\\\"u8); i++; continue;
                    case (byte)'\b': _output.Append("\\b"u8); i++; continue;
                    case (byte)'\t': _output.Append("\\t"u8); i++; continue;
                    case (byte)'\n': _output.Append("\\n"u8); i++; continue;
                    case (byte)'\f': _output.Append("\\f"u8); i++; continue;
                    case (byte)'\r': _output.Append("\\r"u8); i++; continue;
                }

                Rune.DecodeFromUtf8(utf8[i..], out var rune, out var consumed);
                i += consumed;
                var count = rune.EncodeToUtf16(units);
                for (var u = 0; u < count; u++)
                {
                    AppendUnicodeEscape(units[u]);
                }
            }

            _output.Append((byte)'"');
        }

        private void AppendUnicodeEscape(char unit)
        {
            Span<byte> escape = stackalloc byte[6];
            escape[0] = (byte)'\\';
            escape[1] = (byte)'u';
            ((int)unit).TryFormat(escape[2..], out _, "x4", CultureInfo.InvariantCulture);
            _output.Append(escape);
        }

        private void WriteNumber(ReadOnlySpan<byte> token)
        {
            if (token.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0)
            {
                // JSON forbids leading zeros, so the token already is the exact decimal; only -0 changes.
                _output.Append(token.SequenceEqual("-0"u8) ? "0"u8 : token);
                return;
            }

            var value = double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!double.IsFinite(value))
            {
                throw new RejectedException("number is not finite");
            }

            AppendPythonRepr(value);
        }

        private void AppendPythonRepr(double value)
        {
            // "R" is the shortest round-trip form on .NET Core 3.0+; only its layout differs from Python's repr.
            Span<char> formatted = stackalloc char[40];
            value.TryFormat(formatted, out var formattedLength, "R", CultureInfo.InvariantCulture);
            formatted = formatted[..formattedLength];

            Span<byte> digits = stackalloc byte[formattedLength];
            var digitCount = 0;
            var digitsBeforePoint = -1;
            var exponent = 0;
            for (var i = 0; i < formatted.Length; i++)
            {
                var c = formatted[i];
                if (char.IsAsciiDigit(c))
                {
                    digits[digitCount++] = (byte)c;
                }
                else if (c == '.')
                {
                    digitsBeforePoint = digitCount;
                }
                else if (c is 'E' or 'e')
                {
                    exponent = int.Parse(formatted[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    break;
                }
            }

            if (digitsBeforePoint < 0)
            {
                digitsBeforePoint = digitCount;
            }

            // value = 0.d1d2…dn × 10^(exponent + digitsBeforePoint); normalise to d1.d2…dn × 10^E.
            var significant = digits[..digitCount];
            var leadingZeros = significant.IndexOfAnyExcept((byte)'0');
            if (double.IsNegative(value))
            {
                _output.Append((byte)'-');
            }

            if (leadingZeros < 0)
            {
                _output.Append("0.0"u8);
                return;
            }

            var scientificExponent = exponent + digitsBeforePoint - leadingZeros - 1;
            significant = significant[leadingZeros..];
            significant = significant[..(significant.LastIndexOfAnyExcept((byte)'0') + 1)];

            if (scientificExponent is >= -4 and < 16)
            {
                if (scientificExponent < 0)
                {
                    _output.Append("0."u8);
                    for (var z = -1; z > scientificExponent; z--)
                    {
                        _output.Append((byte)'0');
                    }

                    _output.Append(significant);
                }
                else if (significant.Length <= scientificExponent + 1)
                {
                    _output.Append(significant);
                    for (var z = significant.Length; z <= scientificExponent; z++)
                    {
                        _output.Append((byte)'0');
                    }

                    _output.Append(".0"u8);
                }
                else
                {
                    _output.Append(significant[..(scientificExponent + 1)]);
                    _output.Append((byte)'.');
                    _output.Append(significant[(scientificExponent + 1)..]);
                }

                return;
            }

            _output.Append(significant[0]);
            if (significant.Length > 1)
            {
                _output.Append((byte)'.');
                _output.Append(significant[1..]);
            }

            _output.Append(scientificExponent < 0 ? "e-"u8 : "e+"u8);
            Span<byte> exponentDigits = stackalloc byte[8];
            Math.Abs(scientificExponent).TryFormat(exponentDigits, out var exponentLength, "00", CultureInfo.InvariantCulture);
            _output.Append(exponentDigits[..exponentLength]);
        }
    }

    /// <summary>A growable byte buffer over pooled arrays.</summary>
    private sealed class ByteBuffer(int initialCapacity) : IDisposable
    {
        private byte[] _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
        private int _length;

        public byte[] Array => _array;

        public int Length
        {
            get => _length;
            set => _length = value;
        }

        public ReadOnlySpan<byte> Written => _array.AsSpan(0, _length);

        public void Append(byte value)
        {
            if (_length == _array.Length)
            {
                Grow(1);
            }

            _array[_length++] = value;
        }

        public void Append(ReadOnlySpan<byte> values)
        {
            if (_length + values.Length > _array.Length)
            {
                Grow(values.Length);
            }

            values.CopyTo(_array.AsSpan(_length));
            _length += values.Length;
        }

        private void Grow(int needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + needed));
            _array.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_array);
            _array = larger;
        }

        public void Dispose()
        {
            if (_array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_array);
                _array = [];
            }
        }
    }
}
