using System.Net.Mail;
using Cue.Api.Hosting;
using Cue.Contracts.Events;
using Cue.Delivery.Targets;
using Cue.Encryption;
using JasperFx;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cue.Api.Accounts;

/// <summary>Registration, the account's own view, key and webhook-secret rotation, and usage (§5.1, §5.4).</summary>
public static class AccountEndpoints
{
    /// <summary>The grace period of a webhook secret rotation when the caller names none (§5.1).</summary>
    public const int DefaultGracePeriodSeconds = 86_400;

    public const int MaxGracePeriodSeconds = 604_800;

    public const string Plan = "self_hosted";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder v1, RouteGroupBuilder authed)
    {
        v1.MapPost("/auth/register", RegisterAsync);
        authed.MapGet("/auth/me", MeAsync);
        authed.MapPost("/auth/key/regenerate", RegenerateKeyAsync);
        authed.MapGet("/auth/webhook-secret", WebhookSecretAsync);
        authed.MapPost("/auth/webhook-secret/regenerate", RegenerateWebhookSecretAsync);
        authed.MapGet("/usage", UsageAsync);
    }

    /// <summary>
    /// A new account with its own data key: the key is stored wrapped in the same transaction as the account's
    /// first event, which holds the e-mail and the webhook secret sealed with it.
    /// </summary>
    private static async Task<IResult> RegisterAsync(HttpRequest request, IDocumentSession session, KeyRing keyRing, TimeProvider time, IOptions<AccountOptions> options)
    {
        if (!options.Value.RegistrationEnabled)
        {
            throw new ApiError(StatusCodes.Status403Forbidden, "registration_disabled", "Registration is turned off on this server.");
        }

        var (body, _) = await JsonBody.ReadObjectAsync(request);
        var fields = new JsonFields(body);
        var email = fields.String("email", required: true)!.Trim();
        var mode = fields.String("mode", nullable: false) ?? "live";
        fields.RejectUnknown();

        if (email.Length > 254 || !IsEmail(email))
        {
            throw ApiError.Validation("email", "Must be a valid e-mail address of at most 254 characters.");
        }

        if (mode is not ("live" or "test"))
        {
            throw ApiError.Validation("mode", "Must be 'live' or 'test'.");
        }

        var key = Secrets.NewApiKey(mode);
        var accountId = Guid.NewGuid();
        var dataKey = keyRing.CreateAccountKey(accountId);
        var cipher = dataKey.Cipher;
        var normalisedEmail = email.ToLowerInvariant();
        var webhookSecret = Secrets.NewWebhookSecret();
        var registered = new AccountRegistered(
            AccountId: accountId,
            Email: cipher.Seal(SealedFields.Email, normalisedEmail),
            EmailIndex: await keyRing.EmailIndexAsync(normalisedEmail, request.HttpContext.RequestAborted),
            Mode: mode,
            ApiKeyHash: Secrets.HashApiKey(key),
            ApiKeyPrefix: Secrets.KeyPrefix(key),
            WebhookSecret: cipher.Seal(SealedFields.WebhookSecret, webhookSecret),
            RegisteredAt: time.GetUtcNow());

        session.Events.StartStream(registered.AccountId.ToString("D"), registered);
        session.QueueSqlCommand(KeyRing.InsertAccountKeySql, accountId, dataKey.Wrapped, dataKey.MasterKeyId, dataKey.CreatedAt);
        try
        {
            await session.SaveChangesAsync(request.HttpContext.RequestAborted);
        }
        catch (Exception ex) when (UniqueViolation.Of(ex, "ux_account_mode_email"))
        {
            throw DuplicateEmail();
        }

        keyRing.Remember(cipher);
        return Results.Json(new
        {
            api_key = key,
            email = normalisedEmail,
            mode,
            webhook_secret = webhookSecret,
            created_at = registered.RegisteredAt,
        }, Json.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> MeAsync(HttpContext context, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing, TimeProvider time, IOptions<AccountOptions> options)
    {
        var caller = Caller.From(context);
        var cancel = context.RequestAborted;
        var account = await LoadAccountAsync(session, caller, cancel);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, cancel);
        var keys = await session.LoadAsync<SigningKeys>(account.Id, cancel);
        var limits = options.Value;
        return Results.Json(new
        {
            email = cipher.Open(SealedFields.Email, account.Email),
            mode = account.Mode,
            plan = Plan,
            active_cues = await AccountUsage.ActiveCuesAsync(dataSource, caller.AccountId, cancel),
            active_cue_limit = limits.ActiveCueLimit,
            executions_this_month = await AccountUsage.ExecutionsThisMonthAsync(session, caller.AccountId, time.GetUtcNow(), cancel),
            monthly_execution_limit = limits.MonthlyExecutionLimit,
            rate_limit_per_minute = limits.RateLimitPerMinute,
            has_webhook_secret = keys?.Current is not null,
            api_key_prefix = account.ApiKeyPrefix,
            created_at = account.CreatedAt,
        }, Json.Options);
    }

    /// <summary>
    /// A new key in the same mode; the presented key stops working in the same transaction. The append
    /// is checked against the stream version read with the account, so two concurrent rotations with
    /// the same key cannot both succeed and leave two live keys.
    /// </summary>
    private static async Task<IResult> RegenerateKeyAsync(HttpContext context, IDocumentStore store, TimeProvider time)
    {
        Confirmation.Require(context.Request);
        await RejectAnyBodyAsync(context.Request);
        var caller = Caller.From(context);

        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AccountView>(caller.AccountId.ToString("D"), context.RequestAborted);
            var account = stream.Aggregate ?? throw InvalidKey();
            if (account.ApiKeyHash != caller.KeyHash)
            {
                throw ApiError.Unauthorized("key_rotated", "This API key was replaced by a newer one; use the new key.");
            }

            var key = Secrets.NewApiKey(account.Mode);
            stream.AppendOne(new ApiKeyRegenerated(account.AccountId, Secrets.HashApiKey(key), Secrets.KeyPrefix(key), caller.KeyHash, time.GetUtcNow()));
            try
            {
                await session.SaveChangesAsync(context.RequestAborted);
                return Results.Json(new { api_key = key, mode = account.Mode, previous_key_revoked = true }, Json.Options);
            }
            catch (ConcurrencyException) when (attempt < 3)
            {
                // Another change to the account landed first: read it again (a rotated key then gets key_rotated).
            }
        }
    }

    private static async Task<IResult> WebhookSecretAsync(HttpContext context, IQuerySession session, KeyRing keyRing, TimeProvider time)
    {
        var caller = Caller.From(context);
        var keys = await LoadSigningKeysAsync(session, caller, context.RequestAborted);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        return Results.Json(new
        {
            webhook_secret = cipher.Open(SealedFields.WebhookSecret, keys.Current),
            previous_secret_expires_at = keys.PreviousValidUntil(time.GetUtcNow()),
        }, Json.Options);
    }

    /// <summary>
    /// A new webhook secret. The one it replaces keeps signing for the grace period (none with 0); any
    /// older one is dropped, so at most two are valid (§5.1, §9.4).
    /// </summary>
    private static async Task<IResult> RegenerateWebhookSecretAsync(HttpContext context, IDocumentStore store, KeyRing keyRing, TimeProvider time)
    {
        Confirmation.Require(context.Request);
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request, optional: true);
        var fields = new JsonFields(body);
        var grace = fields.Int("grace_period_seconds") ?? DefaultGracePeriodSeconds;
        fields.RejectUnknown();
        if (grace is < 0 or > MaxGracePeriodSeconds)
        {
            throw ApiError.Validation("grace_period_seconds", $"Must be an integer from 0 to {MaxGracePeriodSeconds}.");
        }

        var caller = Caller.From(context);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AccountView>(caller.AccountId.ToString("D"), context.RequestAborted);
            _ = stream.Aggregate ?? throw InvalidKey();
            var keys = await LoadSigningKeysAsync(session, caller, context.RequestAborted);

            var now = time.GetUtcNow();
            var secret = Secrets.NewWebhookSecret();
            DateTimeOffset? expiresAt = grace == 0 ? null : now.AddSeconds(grace);
            // The secret being replaced is carried over as it is stored: sealed for the same account and field.
            stream.AppendOne(new WebhookSecretRegenerated(caller.AccountId, cipher.Seal(SealedFields.WebhookSecret, secret), grace == 0 ? null : keys.Current, expiresAt, now));
            try
            {
                await session.SaveChangesAsync(context.RequestAborted);
                return Results.Json(new
                {
                    webhook_secret = secret,
                    previous_secret_revoked = grace == 0,
                    previous_secret_expires_at = expiresAt,
                }, Json.Options);
            }
            catch (ConcurrencyException) when (attempt < 3)
            {
                // Another rotation landed first: the secret it issued is the one to keep for the grace period.
            }
        }
    }

    private static async Task<IResult> UsageAsync(HttpContext context, IQuerySession session, NpgsqlDataSource dataSource, TimeProvider time, IOptions<AccountOptions> options)
    {
        var caller = Caller.From(context);
        var cancel = context.RequestAborted;
        var limits = options.Value;
        var now = time.GetUtcNow();
        var start = AccountUsage.MonthStart(now);
        var end = AccountUsage.MonthEnd(now);

        var activeCues = await AccountUsage.ActiveCuesAsync(dataSource, caller.AccountId, cancel);
        var usedCues = await AccountUsage.UsedCuesAsync(dataSource, caller.AccountId, cancel);
        var executions = await AccountUsage.ExecutionsThisMonthAsync(session, caller.AccountId, now, cancel);
        var outcomes = await AccountUsage.OutcomesThisMonthAsync(session, caller.AccountId, now, cancel);
        var rate = RateLimitHeaders.Current(context);

        return Results.Json(new
        {
            plan = Plan,
            billing_period = new
            {
                start,
                end,
                days_remaining = (int)Math.Ceiling((end - now).TotalDays),
            },
            cues = new
            {
                active = activeCues,
                used = usedCues,
                limit = limits.ActiveCueLimit,
                remaining = Math.Max(0, limits.ActiveCueLimit - usedCues),
                percent_used = Percent(usedCues, limits.ActiveCueLimit),
            },
            executions = new
            {
                used = executions,
                limit = limits.MonthlyExecutionLimit,
                remaining = Math.Max(0, limits.MonthlyExecutionLimit - executions),
                percent_used = Percent(executions, limits.MonthlyExecutionLimit),
            },
            outcomes = new { reported = outcomes.Reported, succeeded = outcomes.Succeeded, failed = outcomes.Failed },
            rate_limit = new
            {
                limit = limits.RateLimitPerMinute,
                requests_per_minute = limits.RateLimitPerMinute - rate.Remaining,
                remaining = rate.Remaining,
            },
        }, Json.Options);
    }

    /// <summary>Rounded to one decimal place: <c>12.5</c> means 12.5 %.</summary>
    private static double Percent(int used, int limit) => Math.Round(100.0 * used / limit, 1, MidpointRounding.AwayFromZero);

    /// <summary>The call takes no body: an empty one or <c>{}</c> is fine, any member is an unknown field (422).</summary>
    private static async Task RejectAnyBodyAsync(HttpRequest request)
    {
        var (body, _) = await JsonBody.ReadObjectAsync(request, optional: true);
        new JsonFields(body).RejectUnknown();
    }

    private static async Task<AccountView> LoadAccountAsync(IQuerySession session, Caller caller, CancellationToken cancellationToken) =>
        await session.LoadAsync<AccountView>(caller.AccountId.ToString("D"), cancellationToken) ?? throw InvalidKey();

    private static async Task<SigningKeys> LoadSigningKeysAsync(IQuerySession session, Caller caller, CancellationToken cancellationToken) =>
        await session.LoadAsync<SigningKeys>(caller.AccountId.ToString("D"), cancellationToken)
            ?? throw new InvalidOperationException("The account has no webhook secret.");

    private static ApiError InvalidKey() => ApiError.Unauthorized("invalid_api_key", "The API key is not valid.");

    private static ApiError DuplicateEmail() =>
        ApiError.Conflict("duplicate_email", "An account with this e-mail address is already registered in this mode.");

    private static bool IsEmail(string email)
    {
        if (email.Any(char.IsWhiteSpace) || email.Count(c => c == '@') != 1)
        {
            return false;
        }

        try
        {
            var address = new MailAddress(email);
            return address.Address == email && address.Host.Contains('.', StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
