using System.Globalization;
using System.Threading.RateLimiting;
using Cue.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Cue.Api.Accounts;

/// <summary>
/// §4 rate limits on ASP.NET Core's rate limiter: a sliding window per API key, per client IP for
/// requests without a valid key, and per client IP again for registration. The built-in
/// <see cref="SlidingWindowRateLimiter"/> counts and decides; Cue only adds the headers that say how
/// much is left and when the next slot frees.
/// </summary>
public static class RateLimiting
{
    /// <summary>Paths §4 exempts: health and status probes, service info, API description and docs.</summary>
    public static bool IsExempt(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/status") || path.StartsWithSegments("/v1/info")
        || path.StartsWithSegments("/openapi") || (path.Value ?? "").StartsWith("/docs", StringComparison.OrdinalIgnoreCase);

    public static bool IsRegistration(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments("/v1/auth/register", out var rest) && rest.Value is null or "" or "/";
}

/// <summary>One partition's window: its limit, the permits left, and when the oldest permit in use comes back.</summary>
public sealed class WindowStatistics : RateLimiterStatistics
{
    public int Limit { get; init; }
    public DateTimeOffset? NextSlotFreesAt { get; init; }
}

/// <summary>
/// The global limiter: the key-or-IP window for every request that is not exempt, and the registration
/// window on top for <c>POST /v1/auth/register</c>.
/// </summary>
public sealed class CueRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private readonly PartitionedRateLimiter<HttpContext> requests;
    private readonly PartitionedRateLimiter<HttpContext> registrations;

    public CueRateLimiter(IOptions<AccountOptions> accounts, IOptions<RateLimitsOptions> limits, TimeProvider time)
    {
        var perKey = accounts.Value.RateLimitPerMinute;
        var (anonymous, register, window) = (limits.Value.AnonymousPerMinute, limits.Value.RegisterPerMinute, limits.Value.Window);

        requests = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            if (RateLimiting.IsExempt(http.Request.Path))
            {
                return RateLimitPartition.GetNoLimiter("");
            }

            // The key was resolved (one lookup) before the limiter ran: a bogus or rotated key is no key.
            return http.Items[typeof(KeyResolution)] is KeyResolution { Caller: { } caller }
                ? RateLimitPartition.Get("key:" + caller.KeyHash, _ => new WindowLimiter(perKey, window, time))
                : RateLimitPartition.Get("ip:" + ClientIp(http), _ => new WindowLimiter(anonymous, window, time));
        });
        registrations = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            RateLimiting.IsRegistration(http.Request)
                ? RateLimitPartition.Get("register:" + ClientIp(http), _ => new WindowLimiter(register, window, time))
                : RateLimitPartition.GetNoLimiter(""));
    }

    /// <summary>The window that binds this request: the one with fewer permits left (on a tie, the one that frees later).</summary>
    public WindowStatistics? Statistics(HttpContext http)
    {
        var request = requests.GetStatistics(http) as WindowStatistics;
        var registration = registrations.GetStatistics(http) as WindowStatistics;
        if (request is null || registration is null)
        {
            return request ?? registration;
        }

        return registration.CurrentAvailablePermits < request.CurrentAvailablePermits
            || (registration.CurrentAvailablePermits == request.CurrentAvailablePermits && registration.NextSlotFreesAt > request.NextSlotFreesAt)
            ? registration
            : request;
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => Statistics(resource);

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (!RateLimiting.IsRegistration(resource.Request))
        {
            return requests.AttemptAcquire(resource, permitCount);
        }

        // A rejected request must not use up any window: look at the IP window before taking a
        // registration slot. (Only a race with another request from the same IP can still waste one.)
        if (requests.GetStatistics(resource) is WindowStatistics { CurrentAvailablePermits: < 1 })
        {
            return requests.AttemptAcquire(resource, permitCount);
        }

        var registration = registrations.AttemptAcquire(resource, permitCount);
        if (!registration.IsAcquired)
        {
            return registration;
        }

        // Window permits come back with time, not when a lease is disposed: the registration lease has no more to say.
        registration.Dispose();
        return requests.AttemptAcquire(resource, permitCount);
    }

    /// <summary>Nothing queues: a request over the limit is answered 429 at once.</summary>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            requests.Dispose();
            registrations.Dispose();
        }

        base.Dispose(disposing);
    }

    private static string ClientIp(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

/// <summary>
/// A <see cref="SlidingWindowRateLimiter"/> of one-second segments whose window slides on
/// <see cref="TimeProvider"/> time, segment by segment, as each request arrives (and on the partitioned
/// limiter's heartbeat). Driving the slide here, rather than from the limiter's own timer, puts the
/// segment boundaries at known instants, so the headers can tell exactly when the next slot frees.
/// The inner limiter still does all the counting and every accept/reject decision.
/// </summary>
internal sealed class WindowLimiter : ReplenishingRateLimiter
{
    private readonly SlidingWindowRateLimiter inner;
    private readonly TimeProvider time;
    private readonly int limit;
    private readonly int segments;
    private readonly TimeSpan segment;
    private readonly long origin;
    private readonly Queue<long> inUse = new();
    private readonly Lock gate = new();
    private long slid;

    public WindowLimiter(int limit, TimeSpan window, TimeProvider time)
    {
        this.limit = limit;
        this.time = time;
        segments = Math.Max(1, (int)window.TotalSeconds);
        segment = window / segments;
        origin = time.GetTimestamp();
        inner = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = limit,
            SegmentsPerWindow = segments,
            // Its own clock is switched off (a one-tick window: every TryReplenish slides one segment);
            // CatchUp slides it on this limiter's clock instead.
            Window = TimeSpan.FromTicks(1),
            AutoReplenishment = false,
            QueueLimit = 0,
        });
    }

    public override TimeSpan? IdleDuration => inner.IdleDuration;

    public override bool IsAutoReplenishing => false;

    public override TimeSpan ReplenishmentPeriod => segment;

    public override bool TryReplenish()
    {
        lock (gate)
        {
            CatchUp();
        }

        return true;
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (gate)
        {
            CatchUp();
            var stats = inner.GetStatistics()!;
            return new WindowStatistics
            {
                CurrentAvailablePermits = stats.CurrentAvailablePermits,
                CurrentQueuedCount = stats.CurrentQueuedCount,
                TotalFailedLeases = stats.TotalFailedLeases,
                TotalSuccessfulLeases = stats.TotalSuccessfulLeases,
                Limit = limit,
                NextSlotFreesAt = NextSlotFreesAt(),
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (gate)
        {
            CatchUp();
            var lease = inner.AttemptAcquire(permitCount);
            if (lease.IsAcquired)
            {
                for (var i = 0; i < permitCount; i++)
                {
                    inUse.Enqueue(slid);
                }

                return lease;
            }

            lease.Dispose();
            var retryAfter = NextSlotFreesAt() is { } at ? at - time.GetUtcNow() : segment;
            return new RejectedLease(retryAfter);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Slides the inner window once per segment boundary passed since the last call (a full window clears it).</summary>
    private void CatchUp()
    {
        var due = time.GetElapsedTime(origin).Ticks / segment.Ticks;
        for (var i = slid; i < due && i < slid + segments; i++)
        {
            inner.TryReplenish();
        }

        slid = Math.Max(slid, due);

        // A permit taken in segment s comes back when the window has slid a whole window past it.
        while (inUse.Count > 0 && inUse.Peek() <= slid - segments)
        {
            inUse.Dequeue();
        }
    }

    private DateTimeOffset? NextSlotFreesAt()
    {
        if (inUse.Count == 0)
        {
            return null;
        }

        var freesAfter = TimeSpan.FromTicks((inUse.Peek() + segments) * segment.Ticks);
        return time.GetUtcNow() + (freesAfter - time.GetElapsedTime(origin));
    }

    private sealed class RejectedLease(TimeSpan retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}

/// <summary>
/// Resolves the request's API key before the limiter runs, and puts <c>X-RateLimit-*</c> (and, on a 429,
/// <c>Retry-After</c>) on every response that is not exempt, whatever produced it: an endpoint, the
/// error envelope or the limiter itself.
/// </summary>
public sealed class RateLimitHeaders(RequestDelegate next, CueRateLimiter limiter, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (RateLimiting.IsExempt(context.Request.Path))
        {
            await next(context);
            return;
        }

        context.Items[typeof(RateLimitHeaders)] = this;
        await KeyResolution.OfAsync(context);
        context.Response.OnStarting(() =>
        {
            Write(context);
            return Task.CompletedTask;
        });
        await next(context);
    }

    /// <summary>The limit and what is left of it for this request's window (for <c>/v1/usage</c>).</summary>
    public static (int Limit, int Remaining) Current(HttpContext context) =>
        context.Items[typeof(RateLimitHeaders)] is RateLimitHeaders headers && headers.StatisticsOf(context) is { } stats
            ? (stats.Limit, (int)stats.CurrentAvailablePermits)
            : (0, 0);

    private WindowStatistics? StatisticsOf(HttpContext context) => limiter.Statistics(context);

    private void Write(HttpContext context)
    {
        if (StatisticsOf(context) is not { } stats)
        {
            return;
        }

        var now = time.GetUtcNow();
        var rejected = context.Response.StatusCode == StatusCodes.Status429TooManyRequests;
        var headers = context.Response.Headers;
        headers["X-RateLimit-Limit"] = stats.Limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = (rejected ? 0 : stats.CurrentAvailablePermits).ToString(CultureInfo.InvariantCulture);
        var frees = stats.NextSlotFreesAt ?? now;
        headers["X-RateLimit-Reset"] = CeilingUnixSeconds(frees).ToString(CultureInfo.InvariantCulture);
        if (rejected)
        {
            // Whole seconds, rounded up and never below 1: clients parse it with int() (§4).
            var wait = Math.Max(1, (long)Math.Ceiling((frees - now).TotalSeconds));
            headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static long CeilingUnixSeconds(DateTimeOffset at)
    {
        var milliseconds = at.ToUnixTimeMilliseconds();
        return milliseconds / 1000 + (milliseconds % 1000 > 0 ? 1 : 0);
    }
}
