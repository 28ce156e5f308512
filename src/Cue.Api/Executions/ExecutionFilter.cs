using System.Text.RegularExpressions;
using Cue.Api.Cues;
using Cue.Api.Hosting;
using Cue.Contracts;

namespace Cue.Api.Executions;

/// <summary>
/// The query filters of <c>GET /v1/executions</c> (§5.3). An absent or empty parameter filters nothing;
/// an unknown enum value or a bad timestamp is 400 <c>invalid_filter</c>, and <c>status</c> together with
/// <c>status__in</c> is 400 <c>conflicting_filters</c>.
/// </summary>
internal sealed partial record ExecutionFilter(
    string? CueId,
    IReadOnlyList<string>? Statuses,
    string? OutcomeState,
    string? TriggeredBy,
    string? ResultType,
    bool? HasEvidence,
    DateTimeOffset? Since,
    DateTimeOffset? Until)
{
    public static readonly string[] KnownStatuses = ["pending", "delivering", "retrying", "success", "failed", "missed", "cancelled"];
    public static readonly string[] KnownTriggers = [TriggerKinds.Scheduled, TriggerKinds.ManualFire, TriggerKinds.Replay];

    // A '+' offset that reached us unencoded arrives as a space: "…T10:00:00 02:00".
    [GeneratedRegex(@"(?<=\d{2}:\d{2}:\d{2}(?:\.\d+)?) (?=\d{2}:\d{2}$)")]
    private static partial Regex DecodedPlusOffset();

    public static ExecutionFilter Read(IQueryCollection query)
    {
        string? Value(string name) => query[name].ToString() is { Length: > 0 } value ? value : null;

        var status = Value("status");
        var statusIn = Value("status__in");
        if (status is not null && statusIn is not null)
        {
            throw ApiError.BadRequest("conflicting_filters", "Use either 'status' or 'status__in', not both.");
        }

        IReadOnlyList<string>? statuses = null;
        if (status is not null)
        {
            statuses = [OneOf("status", status, KnownStatuses)];
        }
        else if (statusIn is not null)
        {
            statuses = [.. statusIn.Split(',').Select(s => OneOf("status__in", s.Trim(), KnownStatuses)).Distinct()];
        }

        var outcomeState = Value("outcome_state") is { } state ? OneOf("outcome_state", state, OutcomeStates.All) : null;
        var triggeredBy = Value("triggered_by") is { } trigger ? OneOf("triggered_by", trigger, KnownTriggers) : null;
        var hasEvidence = Value("has_evidence") switch
        {
            null => (bool?)null,
            "true" => true,
            "false" => false,
            var other => throw ApiError.BadRequest("invalid_filter", $"'has_evidence' must be 'true' or 'false', not '{other}'."),
        };

        return new ExecutionFilter(Value("cue_id"), statuses, outcomeState, triggeredBy, Value("result_type"), hasEvidence,
            Instant("since", Value("since")), Instant("until", Value("until")));
    }

    /// <summary>
    /// True when only <c>cue_id</c> and the statuses narrow the list (or nothing does): the matches are then
    /// counted by <see cref="ExecutionTotals"/> instead of a <c>count(*)</c>.
    /// </summary>
    public bool CountedByTotals =>
        OutcomeState is null && TriggeredBy is null && ResultType is null && HasEvidence is null && Since is null && Until is null;

    public IQueryable<ExecutionView> Apply(IQueryable<ExecutionView> query)
    {
        if (CueId is { } cueId)
        {
            // Another account's cue id matches nothing: the account condition is already on the query.
            query = query.Where(e => e.CueId == cueId);
        }

        if (Statuses is [var single])
        {
            query = query.Where(e => e.Status == single);
        }
        else if (Statuses is { } statuses)
        {
            var list = statuses.ToArray();
            query = query.Where(e => list.Contains(e.Status));
        }

        if (OutcomeState is { } outcomeState)
        {
            query = query.Where(e => e.OutcomeState == outcomeState);
        }

        if (TriggeredBy is { } triggeredBy)
        {
            query = query.Where(e => e.TriggeredBy == triggeredBy);
        }

        if (ResultType is { } resultType)
        {
            query = query.Where(e => e.Outcome!.ResultType == resultType);
        }

        // Mirrors OutcomeView.HasEvidence; a missing outcome reads as null members in the document.
        if (HasEvidence is true)
        {
            query = query.Where(e => e.Outcome!.ExternalId != null || e.Outcome.ResultUrl != null || e.Outcome.ResultRef != null
                || e.Outcome.ResultType != null || e.Outcome.Summary != null || e.Outcome.Artifacts != null);
        }
        else if (HasEvidence is false)
        {
            query = query.Where(e => e.Outcome!.ExternalId == null && e.Outcome.ResultUrl == null && e.Outcome.ResultRef == null
                && e.Outcome.ResultType == null && e.Outcome.Summary == null && e.Outcome.Artifacts == null);
        }

        if (Since is { } since)
        {
            query = query.Where(e => e.ScheduledFor >= since);
        }

        if (Until is { } until)
        {
            query = query.Where(e => e.ScheduledFor < until);
        }

        return query;
    }

    private static string OneOf(string name, string value, string[] known) =>
        known.Contains(value, StringComparer.Ordinal)
            ? value
            : throw ApiError.BadRequest("invalid_filter", $"Unknown {name} value '{value}'; expected one of: {string.Join(", ", known)}.");

    /// <summary>§1 timestamp input; without an offset the value is UTC.</summary>
    private static DateTimeOffset? Instant(string name, string? text)
    {
        if (text is null)
        {
            return null;
        }

        return WireTime.TryParse(text, TimeZoneInfo.Utc, out var instant) || WireTime.TryParse(DecodedPlusOffset().Replace(text, "+"), TimeZoneInfo.Utc, out instant)
            ? instant
            : throw ApiError.BadRequest("invalid_filter", $"'{name}' must be an RFC 3339 timestamp, e.g. 2026-03-20T16:00:00Z.");
    }
}
