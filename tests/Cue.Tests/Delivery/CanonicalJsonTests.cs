using System.Text;
using System.Text.Json.Nodes;
using Cue.Delivery.Signing;
using NUnit.Framework;

namespace Cue.Tests.Delivery;

// Expected values are contract §9.3, i.e. what Python's json.dumps(obj, sort_keys=True) writes.
public sealed class Canonicalising_json
{
    private static string Canonical(string json)
    {
        var ok = CanonicalJson.TryCanonicalize(Encoding.UTF8.GetBytes(json), out var canonical, out var error);
        Assert.That(ok, Is.True, () => $"rejected: {error}");
        return canonical!;
    }

    private static string Rejection(string json) => Rejection(Encoding.UTF8.GetBytes(json));

    private static string Rejection(byte[] utf8)
    {
        var ok = CanonicalJson.TryCanonicalize(utf8, out var canonical, out var error);
        Assert.That(ok, Is.False, () => $"accepted as {canonical}");
        Assert.That(canonical, Is.Null);
        return error!;
    }

    [TestCase("1e2", "100.0")]
    [TestCase("1.0", "1.0")]
    [TestCase("123e-2", "1.23")]
    [TestCase("-0.0", "-0.0")]
    [TestCase("0.0001", "0.0001")]
    [TestCase("1E-5", "1e-05")]
    [TestCase("2.5e-7", "2.5e-07")]
    [TestCase("1e15", "1000000000000000.0")]
    [TestCase("1e16", "1e+16")]
    [TestCase("123456789012345678901.5", "1.2345678901234568e+20")]
    [TestCase("5e-324", "5e-324")]
    [TestCase("0.1", "0.1")]
    [TestCase("-1.5e300", "-1.5e+300")]
    [TestCase("0.00001234", "1.234e-05")]
    [TestCase("1e22", "1e+22")]
    [TestCase("12345.678e-3", "12.345678")]
    [TestCase("9007199254740993.0", "9007199254740992.0")]
    [TestCase("1.7976931348623157e308", "1.7976931348623157e+308")]
    [TestCase("1e-400", "0.0")]
    [TestCase("-1e-400", "-0.0")]
    public void Writes_non_integers_like_python_repr(string token, string expected) =>
        Assert.That(Canonical(token), Is.EqualTo(expected));

    [TestCase("0", "0")]
    [TestCase("-0", "0")]
    [TestCase("-42", "-42")]
    [TestCase("12345678901234567890123456789012345678901234567890", "12345678901234567890123456789012345678901234567890")]
    [TestCase("-98765432109876543210987654321", "-98765432109876543210987654321")]
    public void Writes_integers_exactly_whatever_their_size(string token, string expected) =>
        Assert.That(Canonical(token), Is.EqualTo(expected));

    [Test]
    public void Escapes_quotes_backslashes_and_the_short_control_escapes_but_not_the_slash() =>
        Assert.That(
            Canonical("\"a\\\"b\\\\c/d\\/e\\b\\f\\n\\r\\t\""),
            Is.EqualTo("\"a\\\"b\\\\c/d/e\\b\\f\\n\\r\\t\""));

    [TestCase("\"caf\u00e9\"", "\"caf\\u00e9\"")]
    [TestCase("\"caf\\u00E9\"", "\"caf\\u00e9\"")]
    [TestCase("\"\U0001F600\"", "\"\\ud83d\\ude00\"")]
    [TestCase("\"\\uD83D\\uDE00\"", "\"\\ud83d\\ude00\"")]
    [TestCase("\"\u007f\"", "\"\\u007f\"")]
    [TestCase("\"\\u001f\\u0001\"", "\"\\u001f\\u0001\"")]
    [TestCase("\"\u2028\uffff\"", "\"\\u2028\\uffff\"")]
    [TestCase("\" ~\"", "\" ~\"")]
    public void Writes_everything_outside_printable_ascii_as_lowercase_utf16_escapes(string json, string expected) =>
        Assert.That(Canonical(json), Is.EqualTo(expected));

    [Test]
    public void Sorts_keys_and_separates_with_comma_space_and_colon_space() =>
        Assert.That(
            Canonical("{\"task\":\"report\",\"n\":2,\"note\":\"caf\u00e9\"}"),
            Is.EqualTo("{\"n\": 2, \"note\": \"caf\\u00e9\", \"task\": \"report\"}"));

    [Test]
    public void Sorts_nested_objects_including_inside_arrays()
    {
        const string input = """
            {
              "b": 1,
              "a": [3, {"d": true, "c": null, "e": false}, []],
              "c": {"y": {}, "x": {"2": 2, "10": 10}}
            }
            """;
        Assert.That(
            Canonical(input),
            Is.EqualTo("{\"a\": [3, {\"c\": null, \"d\": true, \"e\": false}, []], \"b\": 1, \"c\": {\"x\": {\"10\": 10, \"2\": 2}, \"y\": {}}}"));
    }

    [Test]
    public void Sorts_keys_by_code_point_not_by_utf16_unit()
    {
        // U+1F600 is D83D DE00 in UTF-16, which an ordinal UTF-16 sort puts before U+E000 and U+FFFF.
        Assert.That(
            Canonical("{\"\U0001F600\": 2, \"\uffff\": 3, \"\ue000\": 1}"),
            Is.EqualTo("{\"\\ue000\": 1, \"\\uffff\": 3, \"\\ud83d\\ude00\": 2}"));
    }

    [Test]
    public void Sorts_keys_by_their_values_not_their_spelling() =>
        Assert.That(
            Canonical("{\"\\u00e9\": 3, \"aa\": 4, \"a \": 5, \"a\": 2, \"Z\": 1}"),
            Is.EqualTo("{\"Z\": 1, \"a\": 2, \"a \": 5, \"aa\": 4, \"\\u00e9\": 3}"));

    [TestCase("{}", "{}")]
    [TestCase("[]", "[]")]
    [TestCase(" [ 1 , [ ] , { } , true , false , null ] ", "[1, [], {}, true, false, null]")]
    public void Writes_literals_and_empty_containers(string json, string expected) =>
        Assert.That(Canonical(json), Is.EqualTo(expected));

    [Test]
    public void Accepts_nesting_of_exactly_32_levels()
    {
        var objects = string.Concat(Enumerable.Repeat("{\"a\": ", 31)) + "{}" + new string('}', 31);
        Assert.That(Canonical(objects), Is.EqualTo(objects));
        var arrays = new string('[', 32) + new string(']', 32);
        Assert.That(Canonical(arrays), Is.EqualTo(arrays));
    }

    [Test]
    public void Rejects_nesting_of_33_levels()
    {
        Assert.That(Rejection(new string('[', 33) + new string(']', 33)), Does.Contain("32"));
        Assert.That(Rejection(string.Concat(Enumerable.Repeat("{\"a\":", 32)) + "{}" + new string('}', 32)), Does.Contain("32"));
        Assert.That(Rejection("{\"a\": [" + new string('[', 31) + new string(']', 31) + "]}"), Does.Contain("32"));
    }

    [TestCase("{\"a\": 1, \"a\": 2}")]
    [TestCase("{\"x\": {\"b\": 1, \"a\": 1, \"b\": 1}}")]
    [TestCase("{\"a\": 1, \"\\u0061\": 2}")]
    public void Rejects_duplicate_keys(string json) =>
        Assert.That(Rejection(json), Does.Contain("duplicate"));

    [TestCase("\"\\ud800\"")]
    [TestCase("\"\\udc00\"")]
    [TestCase("\"\\ud83d\\u0041\"")]
    [TestCase("\"\\ude00\\ud83d\"")]
    [TestCase("\"x\\ud83d\"")]
    [TestCase("{\"\\ud800\": 1}")]
    [TestCase("[\"ok\", {\"k\": \"\\udfff\"}]")]
    public void Rejects_lone_surrogates(string json) =>
        Assert.That(Rejection(json), Does.Contain("surrogate"));

    [TestCase("\"a\\u0000b\"")]
    [TestCase("{\"\\u0000\": 1}")]
    public void Rejects_U_0000(string json) =>
        Assert.That(Rejection(json), Does.Contain("U+0000"));

    [TestCase("1e999")]
    [TestCase("-1e999")]
    [TestCase("{\"n\": 1.8e308}")]
    public void Rejects_numbers_that_are_not_finite_doubles(string json) =>
        Assert.That(Rejection(json), Does.Contain("finite"));

    [TestCase("")]
    [TestCase("{\"a\": 1,}")]
    [TestCase("[1, 2,]")]
    [TestCase("// comment\n{}")]
    [TestCase("{} /* comment */")]
    [TestCase("{'a': 1}")]
    [TestCase("{} {}")]
    [TestCase("NaN")]
    [TestCase("01")]
    [TestCase("\"tab\there\"")]
    [TestCase("{\"a\" 1}")]
    public void Rejects_invalid_json(string json) =>
        Assert.That(Rejection(json), Does.StartWith("invalid JSON"));

    [Test]
    public void Rejects_invalid_utf8() =>
        Assert.That(Rejection([(byte)'"', 0xC3, (byte)'"']), Is.Not.Empty);

    [Test]
    public void Canonicalises_an_in_memory_tree()
    {
        var node = new JsonObject
        {
            ["z"] = 1,
            ["a"] = new JsonArray(1.5, "caf\u00e9", null),
            ["m"] = JsonNode.Parse("{\"y\":1e2,\"x\":-0}"),
        };
        Assert.That(
            CanonicalJson.Canonicalize(node),
            Is.EqualTo("{\"a\": [1.5, \"caf\\u00e9\", null], \"m\": {\"x\": 0, \"y\": 100.0}, \"z\": 1}"));
        Assert.That(CanonicalJson.Canonicalize(null), Is.EqualTo("null"));
    }

    [Test]
    public void Quotes_a_dotnet_string_the_same_way() =>
        Assert.That(
            CanonicalJson.Quote("caf\u00e9 \"x\"\\/\n\u007f\U0001F600"),
            Is.EqualTo("\"caf\\u00e9 \\\"x\\\"\\\\/\\n\\u007f\\ud83d\\ude00\""));

    [Test]
    public void Handles_a_megabyte_payload()
    {
        var items = string.Join(",", Enumerable.Range(0, 60_000).Select(i => $"{{\"v\":{i}.5,\"k\":\"\u00e9{i}\"}}"));
        var canonical = Canonical("{\"items\":[" + items + "]}");
        Assert.That(canonical, Does.StartWith("{\"items\": [{\"k\": \"\\u00e90\", \"v\": 0.5}, {\"k\": \"\\u00e91\", \"v\": 1.5}"));
        Assert.That(canonical, Does.EndWith("{\"k\": \"\\u00e959999\", \"v\": 59999.5}]}"));
    }
}
