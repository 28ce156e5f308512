using System.Text.Json;
using System.Text.Json.Nodes;
using Cue.Api.Accounts;
using Cue.Api.Executions;
using Cue.Api.Hosting;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Encryption;
using Marten;

namespace Cue.Api.Cues;

/// <summary>
/// Manual fire (§5.2) and replay (§5.3): each appends a new <c>pending</c> execution with its payload
/// snapshot; the due index picks it up at its <c>scheduled_for</c> and it is delivered like any other.
/// </summary>
public static class FireEndpoints
{
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    public static void MapFireEndpoints(this RouteGroupBuilder authed)
    {
        authed.MapPost("/cues/{id}/fire", FireAsync);
        authed.MapPost("/executions/{id}/replay", ReplayAsync);
    }

    private static async Task<IResult> FireAsync(string id, HttpContext context, IDocumentSession session, KeyRing keyRing, Quotas quotas, TimeProvider time)
    {
        var caller = Caller.From(context);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var cue = await CueEndpoints.LoadOwnedAsync(id, caller, session, context.RequestAborted);
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request, optional: true);
        return Respond(await FireOwnedAsync(cue, body, caller, cipher, session, quotas, time, context.RequestAborted), cipher);
    }

    /// <summary>
    /// Decides and saves a manual fire of the caller's cue from a <c>POST /v1/cues/{id}/fire</c> body, and
    /// returns its execution (an earlier one for a repeated idempotency key). The dashboard's "fire now" comes here.
    /// </summary>
    internal static async Task<ExecutionView> FireOwnedAsync(CueView cue, JsonElement body, Caller caller, AccountCipher cipher, IDocumentSession session, Quotas quotas, TimeProvider time, CancellationToken cancellationToken)
    {
        // Milliseconds, as the API shows them: executions that look simultaneous then sort by id.
        var now = Timestamps.TruncateToMilliseconds(time.GetUtcNow());

        var fields = new JsonFields(body);
        var sendAtText = fields.String("send_at");
        var overrideRaw = fields.Raw("payload_override");
        var strategy = fields.String("merge_strategy", nullable: false) ?? "merge";
        var key = fields.String("idempotency_key");
        fields.RejectUnknown();

        var sendAt = now;
        if (sendAtText is not null)
        {
            if (!WireTime.TryParse(sendAtText, TimeZoneInfo.Utc, out var parsed))
            {
                throw ApiError.Validation("send_at", "Must be an RFC 3339 timestamp.");
            }

            sendAt = parsed > now ? parsed : now;
        }

        if (strategy is not ("merge" or "replace"))
        {
            throw ApiError.Validation("merge_strategy", "Must be 'merge' or 'replace'.");
        }

        if (key is { Length: 0 or > 255 })
        {
            throw ApiError.Validation("idempotency_key", "Must be 1–255 characters.");
        }

        // Without an override the cue's sealed payload is the snapshot as it is; an override is merged in clear and sealed.
        var payload = cue.Payload;
        if (overrideRaw is { ValueKind: not JsonValueKind.Null } given)
        {
            if (given.ValueKind != JsonValueKind.Object)
            {
                throw ApiError.Validation("payload_override", "Must be an object.");
            }

            // The override alone must be a valid payload (no duplicate keys, …) before it is merged.
            var clear = CueDraft.ParsePayload(given);
            if (strategy == "merge")
            {
                clear = CueDraft.ParsePayload(Merge(cipher.Open(SealedFields.Payload, cue.Payload), given));
            }

            payload = cipher.Seal(SealedFields.Payload, clear);
        }

        if (key is not null)
        {
            var previous = await session.LoadAsync<FireIdempotency>(FireIdempotency.IdFor(cue.Id, key), cancellationToken);
            if (previous is not null && now - previous.CreatedAt < IdempotencyWindow
                && await session.LoadAsync<ExecutionView>(previous.ExecutionId, cancellationToken) is { } original)
            {
                return original;
            }
        }

        await quotas.EnsureExecutionAllowedAsync(session, caller, cancellationToken);
        var created = new ExecutionCreated(Guid.CreateVersion7(now), cue.Id, caller.AccountId, cue.Name, sendAt, TriggerKinds.ManualFire, payload, now,
            IdempotencyKey: key);
        session.Events.StartStream<ExecutionView>(created.ExecutionId.ToString("D"), created);
        if (key is not null)
        {
            // Stored, not inserted: a key older than the window is reused for the new execution.
            session.Store(new FireIdempotency { Id = FireIdempotency.IdFor(cue.Id, key), ExecutionId = created.ExecutionId.ToString("D"), CreatedAt = now });
        }

        await session.SaveChangesAsync(cancellationToken);
        return ExecutionView.Create(created);
    }

    private static async Task<IResult> ReplayAsync(string id, HttpContext context, IDocumentSession session, KeyRing keyRing, Quotas quotas, TimeProvider time)
    {
        var caller = Caller.From(context);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var original = await ExecutionEndpoints.LoadOwnedAsync(id, context, session);
        if (!ExecutionView.IsFinal(original.Status))
        {
            throw ApiError.Conflict("execution_in_flight", $"Execution {id} is {original.Status}; only a final execution can be replayed.");
        }

        var cue = await session.LoadAsync<CueView>(original.CueId, context.RequestAborted);
        if (cue is null || cue.AccountId != caller.AccountId)
        {
            throw ApiError.NotFound("cue_not_found", $"The cue of execution {id} was deleted.");
        }

        await quotas.EnsureExecutionAllowedAsync(session, caller, context.RequestAborted);
        // Milliseconds, as the API shows them: executions that look simultaneous then sort by id.
        var now = Timestamps.TruncateToMilliseconds(time.GetUtcNow());
        var created = new ExecutionCreated(Guid.CreateVersion7(now), cue.Id, caller.AccountId, cue.Name, now, TriggerKinds.Replay, original.Payload, now,
            ReplayedFrom: Guid.Parse(original.Id));
        session.Events.StartStream<ExecutionView>(created.ExecutionId.ToString("D"), created);
        await session.SaveChangesAsync(context.RequestAborted);
        return Respond(ExecutionView.Create(created), cipher);
    }

    /// <summary>The Execution plus <c>execution_id</c> (the CLI reads it).</summary>
    private static IResult Respond(ExecutionView execution, AccountCipher cipher)
    {
        var response = JsonSerializer.SerializeToNode(execution.ToResponse(cipher), Json.Options)!.AsObject();
        response["execution_id"] = execution.Id;
        return Results.Json(response, Json.Options);
    }

    /// <summary>Shallow merge: the override's top-level members replace the cue payload's.</summary>
    private static JsonElement Merge(string cuePayload, JsonElement overrides)
    {
        var merged = JsonNode.Parse(cuePayload)!.AsObject();
        foreach (var member in overrides.EnumerateObject())
        {
            merged[member.Name] = JsonNode.Parse(member.Value.GetRawText());
        }

        using var document = JsonDocument.Parse(merged.ToJsonString());
        return document.RootElement.Clone();
    }
}

/// <summary>A fire's <c>idempotency_key</c> on one cue, and the execution it produced (§5.2: kept 24 h).</summary>
public sealed class FireIdempotency
{
    public string Id { get; set; } = "";
    public string ExecutionId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static string IdFor(string cueId, string key) => cueId + "|" + key;
}
