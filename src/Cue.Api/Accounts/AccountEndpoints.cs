using System.Net.Mail;
using Cue.Api.Hosting;
using Cue.Contracts.Events;
using Marten;

namespace Cue.Api.Accounts;

public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder v1, RouteGroupBuilder authed)
    {
        v1.MapPost("/auth/register", RegisterAsync);
        authed.MapGet("/auth/me", MeAsync);
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, IDocumentSession session, TimeProvider time)
    {
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
        var registered = new AccountRegistered(
            AccountId: Guid.NewGuid(),
            Email: email.ToLowerInvariant(),
            Mode: mode,
            ApiKeyHash: Secrets.HashApiKey(key),
            ApiKeyPrefix: Secrets.KeyPrefix(key),
            WebhookSecret: Secrets.NewWebhookSecret(),
            RegisteredAt: time.GetUtcNow());

        session.Events.StartStream(registered.AccountId.ToString("D"), registered);
        try
        {
            await session.SaveChangesAsync(request.HttpContext.RequestAborted);
        }
        catch (Exception ex) when (UniqueViolation.Of(ex, "ux_account_mode_email"))
        {
            throw DuplicateEmail();
        }

        return Results.Json(new
        {
            api_key = key,
            email = registered.Email,
            mode,
            webhook_secret = registered.WebhookSecret,
            created_at = registered.RegisteredAt,
        }, Json.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> MeAsync(HttpContext context, IQuerySession session)
    {
        var caller = Caller.From(context);
        var account = await session.LoadAsync<AccountView>(caller.AccountId.ToString("D"), context.RequestAborted)
            ?? throw ApiError.Unauthorized("invalid_api_key", "The API key is not valid.");
        return Results.Json(new
        {
            email = account.Email,
            mode = account.Mode,
            plan = "self_hosted",
            api_key_prefix = account.ApiKeyPrefix,
            created_at = account.CreatedAt,
        }, Json.Options);
    }

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
