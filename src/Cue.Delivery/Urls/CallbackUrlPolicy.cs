using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Cue.Delivery.Urls;

/// <summary>Why a callback URL was refused, with the contract's error code (§3, §8).</summary>
public sealed record UrlRejection(string Code, string Message);

/// <summary>A callback URL that passed the syntax and scheme rules, with its normalised host.</summary>
public sealed record CallbackUrl(Uri Uri, string Host, bool IsLoopbackName, IPAddress? Literal);

/// <summary>
/// The callback URL rules of contract §8.1–8.3 that need no network: syntax and normalisation, scheme by
/// key mode, blocked names and blocked literals. DNS names are resolved by <see cref="CheckResolvedAsync"/>
/// at creation, and again by the delivery client at connect time.
/// </summary>
public static partial class CallbackUrlPolicy
{
    public const int MaxLength = 2048;
    public const string InvalidCallbackUrl = "invalid_callback_url";
    public const string HttpsRequired = "https_required";
    public const string CallbackUrlBlocked = "callback_url_blocked";

    private static readonly string[] BlockedSuffixes =
        [".local", ".localdomain", ".internal", ".home.arpa", ".invalid", ".test", ".example", ".onion", ".alt"];

    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    [GeneratedRegex("^[a-z0-9-]{1,63}$")]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex DottedQuad();

    public static UrlRejection? Check(string raw, bool testMode, out CallbackUrl? url)
    {
        url = null;
        if (string.IsNullOrEmpty(raw) || raw.Length > MaxLength)
        {
            return Invalid($"The URL must be 1–{MaxLength} characters.");
        }

        if (raw.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '\\'))
        {
            return Invalid("The URL contains whitespace, control characters or a backslash.");
        }

        var schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return Invalid("The URL must be absolute, starting with https:// or http://.");
        }

        var scheme = raw[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return Invalid("Only http and https callback URLs are allowed.");
        }

        var rest = raw[(schemeEnd + 3)..];
        if (rest.Contains('#', StringComparison.Ordinal))
        {
            return Invalid("The URL must not have a fragment.");
        }

        var authorityEnd = rest.IndexOfAny(['/', '?']);
        var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        var pathAndQuery = authorityEnd < 0 ? "/" : rest[authorityEnd..];
        if (authority.Contains('@', StringComparison.Ordinal))
        {
            return Invalid("The URL must not contain user information.");
        }

        if (authority.Length == 0)
        {
            return Invalid("The URL has no host.");
        }

        string hostPart;
        int? port = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return Invalid("The IPv6 literal is not closed.");
            }

            hostPart = authority[..(close + 1)];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':'))
                {
                    return Invalid("Unexpected characters after the IPv6 literal.");
                }

                if (ParsePort(after[1..]) is not { } p)
                {
                    return Invalid("The port must be 1–65535.");
                }

                port = p;
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            hostPart = colon < 0 ? authority : authority[..colon];
            if (colon >= 0)
            {
                if (ParsePort(authority[(colon + 1)..]) is not { } p)
                {
                    return Invalid("The port must be 1–65535.");
                }

                port = p;
            }
        }

        if (hostPart.Contains('%', StringComparison.Ordinal))
        {
            return Invalid("The host must not be percent-encoded or carry an IPv6 zone id.");
        }

        IPAddress? literal = null;
        string host;
        if (hostPart.StartsWith('['))
        {
            if (!IPAddress.TryParse(hostPart[1..^1], out literal) || literal.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return Invalid("The bracketed host is not an IPv6 address.");
            }

            host = "[" + literal + "]";
        }
        else
        {
            var lowered = hostPart.ToLowerInvariant();
            if (lowered.Length == 0)
            {
                return Invalid("The URL has no host.");
            }

            try
            {
                lowered = Idn.GetAscii(lowered);
            }
            catch (ArgumentException)
            {
                return Invalid("The host is not a valid internationalised domain name.");
            }

            // After IDNA, as §8.1 orders it: an ideographic full stop (U+3002) is a trailing dot too.
            if (lowered.EndsWith('.'))
            {
                lowered = lowered[..^1];
            }

            if (lowered.Length == 0)
            {
                return Invalid("The URL has no host.");
            }

            var labels = lowered.Split('.');
            // A final label of digits, or labels that are all numbers (decimal or 0x-hex), spell an IPv4
            // address; resolvers accept many spellings of one, so only the canonical one is allowed.
            var numeric = labels.All(l => l.Length > 0 && (l.All(char.IsAsciiDigit) || (l.StartsWith("0x", StringComparison.Ordinal) && l[2..].All(char.IsAsciiHexDigit))));
            if (labels[^1].All(char.IsAsciiDigit) || numeric)
            {
                if (!DottedQuad().IsMatch(lowered))
                {
                    return Invalid("IPv4 addresses must be written as four decimal octets without leading zeros.");
                }

                literal = IPAddress.Parse(lowered);
            }
            else if (lowered.Length > 253 || labels.Any(l => !LabelPattern().IsMatch(l)))
            {
                return Invalid("The host is not a valid DNS name.");
            }

            host = lowered;
        }

        var normalised = $"{scheme}://{host}{(port is { } pp ? ":" + pp.ToString(CultureInfo.InvariantCulture) : "")}{pathAndQuery}";
        if (!Uri.TryCreate(normalised, UriKind.Absolute, out var uri))
        {
            return Invalid("The URL could not be parsed.");
        }

        var loopbackName = literal is null && (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal));
        var isLoopback = loopbackName || (literal is not null && IsLoopbackLiteral(literal));

        // Scheme by key mode (§8.2) comes before the blocked-destination rules.
        if (scheme == "http" && !(testMode && isLoopback))
        {
            return new UrlRejection(HttpsRequired, testMode
                ? "Test keys may use http:// only for loopback callbacks (localhost, 127.0.0.0/8, [::1]); use https://."
                : "Live keys require an https:// callback URL.");
        }

        if (isLoopback)
        {
            if (!testMode)
            {
                return Blocked("Loopback callbacks are allowed only for test keys.");
            }
        }
        else if (literal is not null)
        {
            if (AddressPolicy.IsBlocked(literal))
            {
                return Blocked("The callback host is a blocked address.");
            }
        }
        else if (!host.Contains('.', StringComparison.Ordinal) || BlockedSuffixes.Any(s => host.EndsWith(s, StringComparison.Ordinal) || host == s[1..]) || loopbackName)
        {
            return Blocked("The callback host is a blocked name.");
        }

        url = new CallbackUrl(uri, host, loopbackName, literal);
        return null;
    }

    /// <summary>
    /// Creation-time DNS check (§8.4): rejected if any address the name resolves to is blocked. A lookup
    /// that fails or takes over the budget accepts the URL and leaves the decision to connect time.
    /// </summary>
    public static Task<UrlRejection?> CheckResolvedAsync(CallbackUrl url, TimeSpan budget, CancellationToken cancellationToken) =>
        CheckResolvedAsync(url, budget, HostResolvers.System, cancellationToken);

    /// <inheritdoc cref="CheckResolvedAsync(CallbackUrl, TimeSpan, CancellationToken)"/>
    public static async Task<UrlRejection?> CheckResolvedAsync(CallbackUrl url, TimeSpan budget, HostResolver resolver, CancellationToken cancellationToken)
    {
        if (url.Literal is not null || url.IsLoopbackName)
        {
            return null;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(budget);
            var addresses = await resolver(url.Host, timeout.Token);
            return addresses.Any(AddressPolicy.IsBlocked) ? Blocked("The callback host resolves to a blocked address.") : null;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return null;
        }
    }

    private static bool IsLoopbackLiteral(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? address.Equals(IPAddress.IPv6Loopback) : AddressPolicy.IsLoopback(address);

    private static int? ParsePort(string text) =>
        text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && int.Parse(text, CultureInfo.InvariantCulture) is var p && p is >= 1 and <= 65535 ? p : null;

    private static UrlRejection Invalid(string message) => new(InvalidCallbackUrl, message);

    private static UrlRejection Blocked(string message) => new(CallbackUrlBlocked, message);
}
