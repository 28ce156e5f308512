using Cue.Api.Accounts;
using Cue.Api.Cues;
using Cue.Api.Hosting;
using Cue.Encryption;
using JasperFx;
using Marten;

namespace Cue.Api.Executions;

/// <summary>
/// The receiver's side of an execution (§5.3): report the outcome once, verify it, park it for
/// verification, add evidence. Bodies are checked before the execution is looked at, as the reference
/// server's schema validation does; then each call decides on the execution as it stands and appends
/// with the stream version it read, so concurrent calls cannot both act on the same state.
/// </summary>
internal static class OutcomeEndpoints
{
    // A conflict means another event landed between read and append; deciding again sees it. A handful of
    // rounds is plenty: only a report, a verdict or an attempt record can race on one execution.
    private const int MaxRounds = 5;

    public static void MapOutcomeEndpoints(this RouteGroupBuilder authed)
    {
        authed.MapPost("/executions/{id}/outcome", ReportAsync);
        authed.MapPost("/executions/{id}/verify", VerifyAsync);
        authed.MapPost("/executions/{id}/verification-pending", MarkPendingAsync);
        authed.MapPatch("/executions/{id}/evidence", AddEvidenceAsync);
    }

    private static async Task<IResult> ReportAsync(string id, HttpContext context, IDocumentStore store, KeyRing keyRing, TimeProvider time)
    {
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request);
        var report = OutcomeRules.ParseReport(body);
        var cipher = await CallerCipherAsync(context, keyRing);
        var recorded = await DecideAndAppendAsync(id, context, store, (execution, mode) => OutcomeRules.Report(execution, report, mode, time.GetUtcNow(), cipher));
        return Results.Json(new { execution_id = id, outcome_recorded = true, outcome_state = recorded.OutcomeState }, Json.Options);
    }

    private static async Task<IResult> VerifyAsync(string id, HttpContext context, IDocumentStore store, KeyRing keyRing, TimeProvider time)
    {
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request, optional: true);
        var (valid, reason) = OutcomeRules.ParseVerify(body);
        var cipher = await CallerCipherAsync(context, keyRing);
        var changed = await DecideAndAppendAsync(id, context, store, (execution, _) => OutcomeRules.Verify(execution, valid, reason, time.GetUtcNow(), cipher));
        return Results.Json(new { execution_id = id, outcome_state = changed.OutcomeState, valid, reason }, Json.Options);
    }

    private static async Task<IResult> MarkPendingAsync(string id, HttpContext context, IDocumentStore store, KeyRing keyRing, TimeProvider time)
    {
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request, optional: true);
        OutcomeRules.ParseEmpty(body);
        var changed = await DecideAndAppendAsync(id, context, store, (execution, _) => OutcomeRules.MarkPending(execution, time.GetUtcNow()));
        return Results.Json(new { execution_id = id, outcome_state = changed.OutcomeState }, Json.Options);
    }

    private static async Task<IResult> AddEvidenceAsync(string id, HttpContext context, IDocumentStore store, KeyRing keyRing, TimeProvider time)
    {
        // An empty body is "no evidence" (422), not malformed JSON.
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request, optional: true);
        var evidence = OutcomeRules.ParseEvidence(body);
        var cipher = await CallerCipherAsync(context, keyRing);
        var updated = await DecideAndAppendAsync(id, context, store, (execution, mode) => OutcomeRules.AddEvidence(execution, evidence, mode, time.GetUtcNow(), cipher));
        return Results.Json(new { execution_id = id, outcome_state = updated.OutcomeState, evidence_updated = true }, Json.Options);
    }

    /// <summary>The caller's cipher: an execution the caller can act on is always the caller's own.</summary>
    private static ValueTask<AccountCipher> CallerCipherAsync(HttpContext context, KeyRing keyRing) =>
        keyRing.ForAccountAsync(Caller.From(context).AccountId, context.RequestAborted);

    /// <summary>
    /// Loads the caller's execution with its stream version, lets <paramref name="decide"/> pick the event
    /// (or throw the contract's error), and appends it expecting that version. A concurrent append makes the
    /// save fail; the next round decides again on the new state, which is how a second report becomes 409.
    /// </summary>
    private static async Task<TEvent> DecideAndAppendAsync<TEvent>(string id, HttpContext context, IDocumentStore store, Func<ExecutionView, string, TEvent> decide)
        where TEvent : notnull
    {
        var caller = Caller.From(context);
        var cancellationToken = context.RequestAborted;
        if (!ExecutionEndpoints.IsExecutionId(id))
        {
            throw ExecutionEndpoints.NotFound(id);
        }

        for (var round = 1; ; round++)
        {
            // A fresh session per round: a failed unit of work must not be saved again.
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<ExecutionView>(id, cancellationToken);
            var execution = ExecutionEndpoints.Owned(stream.Aggregate, id, caller);
            var e = decide(execution, await VerificationModeAsync(session, execution.CueId, cancellationToken));
            stream.AppendOne(e);
            try
            {
                await session.SaveChangesAsync(cancellationToken);
                return e;
            }
            catch (ConcurrencyException) when (round < MaxRounds)
            {
            }
        }
    }

    /// <summary>
    /// The cue's verification mode now, when the report or evidence arrives. Executions outlive their cue
    /// (§10); once the cue is deleted there is no mode left to require anything, so it counts as <c>none</c>.
    /// </summary>
    internal static async Task<string> VerificationModeAsync(IQuerySession session, string cueId, CancellationToken cancellationToken) =>
        (await session.LoadAsync<CueView>(cueId, cancellationToken))?.VerificationMode ?? VerificationModes.None;
}
