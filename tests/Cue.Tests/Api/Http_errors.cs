using System.Net.Http.Headers;
using System.Text;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>Errors raised outside endpoint code (routing, size, media type, JSON) use the §3 envelope too.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Http_errors
{
    private const int Limit = 1_048_576;

    private HttpClient http = null!;
    private string apiKey = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var stack = await CueStack.SharedAsync();
        http = new HttpClient { BaseAddress = stack.Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var api = new CueApiClient(stack.Api.BaseAddress);
        apiKey = (await api.RegisterAsync("test")).ApiKey;
    }

    [OneTimeTearDown]
    public void Dispose() => http.Dispose();

    [TestCase("/nope")]
    [TestCase("/v1")]
    [TestCase("/v1/agents")]
    [TestCase("/v1/messages")]
    [TestCase("/v1/billing")]
    [TestCase("/v1/echo")]
    [TestCase("/v1/auth/device-code")]
    [TestCase("/v1/cues/cue_000000000000/nope")]
    public async Task An_unknown_route_answers_404_not_found_even_without_a_key(string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        await ErrorEnvelopeAssert.IsAsync(response, 404, "not_found");
    }

    [TestCase("DELETE", "/v1/auth/register", new[] { "POST" })]
    [TestCase("PUT", "/v1/cues", new[] { "GET", "POST" })]
    [TestCase("POST", "/health", new[] { "GET" })]
    [TestCase("POST", "/v1/info", new[] { "GET" })]
    [TestCase("PUT", "/v1/executions/claimable", new[] { "GET" })]
    public async Task A_wrong_method_answers_405_with_the_routes_methods_in_Allow(string method, string path, string[] allowed)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request);

        await ErrorEnvelopeAssert.IsAsync(response, 405, "method_not_allowed");
        var allow = response.Content.Headers.Allow.Count > 0 ? response.Content.Headers.Allow : response.Headers.TryGetValues("Allow", out var raw) ? raw : [];
        var methods = allow.SelectMany(a => a.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.That(methods, Is.SupersetOf(allowed), "Allow");
        Assert.That(methods, Does.Not.Contain(method), "Allow");
    }

    [Test]
    public async Task A_declared_Content_Length_over_the_limit_answers_413_before_the_body_is_read()
    {
        foreach (var (path, key) in new[] { ("/v1/auth/register", (string?)null), ("/v1/cues", apiKey) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonOf(Limit + 1) };
            request.Headers.ExpectContinue = true;
            if (key is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

            Assert.That(request.Content.Headers.ContentLength, Is.EqualTo(Limit + 1));
            using var response = await http.SendAsync(request);
            await ErrorEnvelopeAssert.IsAsync(response, 413, "request_too_large");
        }
    }

    [Test]
    public async Task A_chunked_body_answers_413_once_it_crosses_the_limit_and_not_before()
    {
        // Exactly at the limit the body is read in full and judged on its content (the e-mail is too long).
        using (var atLimit = await PostChunkedAsync(Limit))
        {
            await ErrorEnvelopeAssert.IsAsync(atLimit, 422, "validation_error");
        }

        using var over = await PostChunkedAsync(Limit + 1);
        await ErrorEnvelopeAssert.IsAsync(over, 413, "request_too_large");
    }

    [Test]
    public async Task A_non_empty_body_that_is_not_JSON_answers_415()
    {
        using var register = await http.PostAsync(new Uri("/v1/auth/register", UriKind.Relative), new StringContent("email=a@example.com", Encoding.UTF8, "text/plain"));
        await ErrorEnvelopeAssert.IsAsync(register, 415, "unsupported_media_type");

        // Also on a route that reads no body: the type of a body it was sent still matters.
        using var bodiless = new HttpRequestMessage(HttpMethod.Post, "/v1/executions/claim")
        {
            Content = new StringContent("<x/>", Encoding.UTF8, "application/xml"),
        };
        bodiless.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(bodiless);
        await ErrorEnvelopeAssert.IsAsync(response, 415, "unsupported_media_type");
    }

    [Test]
    public async Task A_request_without_a_body_is_accepted_whatever_Content_Type_it_declares()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/executions/claim") { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request);

        // The reserved route's own answer, not 415.
        await ErrorEnvelopeAssert.IsAsync(response, 501, "not_implemented");
    }

    [TestCase("{\"email\": ")]
    [TestCase("{\"email\": \"a@example.com\",}")]
    [TestCase("[{\"email\": \"a@example.com\"}]")]
    [TestCase("\"a@example.com\"")]
    [TestCase("42")]
    [TestCase("null")]
    // Found by the fuzzer (a 500 before): escapes the parser accepts but no string can hold.
    [TestCase("{\"email\": \"\\ud800\"}")]
    [TestCase("{\"\\udc00\": 1, \"email\": \"a@example.com\"}")]
    [TestCase("{\"email\": [\"a@example.com\", {\"x\": \"\\ud83d\"}]}")]
    public async Task Malformed_JSON_or_a_top_level_that_is_not_an_object_answers_400_invalid_json(string body)
    {
        using var response = await http.PostAsync(new Uri("/v1/auth/register", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        await ErrorEnvelopeAssert.IsAsync(response, 400, "invalid_json");
    }

    [Test]
    public async Task Every_response_carries_X_Request_Id_echoing_a_well_formed_caller_value()
    {
        foreach (var (method, path) in new[] { ("GET", "/nope"), ("GET", "/v1/info"), ("DELETE", "/v1/auth/register"), ("GET", "/v1/auth/me") })
        {
            var given = "req-" + Guid.NewGuid().ToString("N")[..12] + ":a.b_c";
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Add("X-Request-Id", given);
            using var response = await http.SendAsync(request);
            Assert.That(response.Headers.GetValues("X-Request-Id").Single(), Is.EqualTo(given), $"{method} {path} answered {(int)response.StatusCode}");
        }

        foreach (var bad in new[] { "has space", new string('a', 129), "semi;colon" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/nope");
            request.Headers.TryAddWithoutValidation("X-Request-Id", bad);
            using var response = await http.SendAsync(request);
            var issued = response.Headers.GetValues("X-Request-Id").Single();
            Assert.That(Guid.TryParseExact(issued, "D", out _), Is.True, $"'{bad}' should be replaced by a new UUID, got '{issued}'");
        }
    }

    // A register body of exactly `size` bytes: {"email": "aaa…"}.
    private static ByteArrayContent JsonOf(int size)
    {
        const string head = "{\"email\": \"";
        const string tail = "\"}";
        var bytes = Encoding.ASCII.GetBytes(head + new string('a', size - head.Length - tail.Length) + tail);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private async Task<HttpResponseMessage> PostChunkedAsync(int size)
    {
        using var buffered = JsonOf(size);
        var bytes = await buffered.ReadAsByteArrayAsync();
        Assert.That(bytes, Has.Length.EqualTo(size));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/register")
        {
            // A stream of unknown length goes out chunked, with no Content-Length to judge by.
            Content = new StreamContent(new UnknownLengthStream(bytes)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        var response = await http.SendAsync(request);
        Assert.That(request.Content.Headers.ContentLength, Is.Null);
        return response;
    }

    /// <summary>A read-only stream that hides its length, so the client must send it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 16 * 1024));

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
