using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Cue.Api.Accounts;
using Cue.Api.Cues;
using Cue.Api.Executions;
using Cue.Api.Hosting;
using Cue.Encryption;
using Marten;

namespace Cue.Api.Dashboard;

/// <summary>
/// The audit trail's live feed: server-sent events carrying each execution of the signed-in account that
/// is created or changes after the page was drawn, under the page's filters. It polls the execution view
/// once a second (one indexed query per open page) instead of subscribing to the bus: the view is what
/// the page shows, it is written in the same transaction as the event, and a poll cannot miss a message.
/// </summary>
public static class LiveFeed
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CheckSessionEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(15);
    /// <summary>
    /// Rows are read back this far behind the newest change seen: a transaction that stamped its time before
    /// a later one but committed after it is still picked up. What was already sent is not sent again.
    /// </summary>
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(10);

    public static IResult Stream(HttpContext context, IDocumentStore store, KeyRing keyRing, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        var user = (DashboardUser)context.Items[typeof(DashboardUser)]!;
        var filter = ExecutionFilter.Read(DashboardFilters.ToQuery(context.Request.Query));
        var now = time.GetUtcNow();
        var after = context.Request.Query["after"].ToString() is { Length: > 0 } given && WireTime.TryParse(given, TimeZoneInfo.Utc, out var parsed) && parsed > now - TimeSpan.FromMinutes(5)
            ? parsed
            : now;
        var token = context.Request.Cookies[DashboardSessions.CookieName] ?? "";
        return TypedResults.ServerSentEvents(EventsAsync(user, token, filter, after, store, keyRing, time, context.RequestAborted, lifetime.ApplicationStopping));
    }

    private static async IAsyncEnumerable<SseItem<string>> EventsAsync(DashboardUser user, string token, ExecutionFilter filter, DateTimeOffset after,
        IDocumentStore store, KeyRing keyRing, TimeProvider time, [EnumeratorCancellation] CancellationToken aborted, CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        var cancel = linked.Token;
        var cipher = await keyRing.ForAccountAsync(user.Caller.AccountId, cancel);
        var sent = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var newest = after;
        var checkedAt = time.GetUtcNow();
        var pingedAt = checkedAt;
        yield return new SseItem<string>("{}", "ready") { ReconnectionInterval = TimeSpan.FromSeconds(3) };

        while (await WaitAsync(PollEvery, time, cancel))
        {
            var now = time.GetUtcNow();
            var changed = await ReadAsync(store, user, cipher, token, filter, newest - Overlap, now - checkedAt >= CheckSessionEvery, time, cancel);
            if (changed is null)
            {
                // Signed out, expired, key regenerated, or the request is over: the feed ends with the session.
                yield return new SseItem<string>("{}", "signed-out");
                yield break;
            }

            if (now - checkedAt >= CheckSessionEvery)
            {
                checkedAt = now;
            }

            foreach (var (updatedAt, row) in changed)
            {
                var id = row.GetProperty("id").GetString()!;
                if (updatedAt <= after || (sent.TryGetValue(id, out var last) && last >= updatedAt))
                {
                    continue;
                }

                sent[id] = updatedAt;
                newest = updatedAt > newest ? updatedAt : newest;
                pingedAt = now;
                yield return new SseItem<string>(row.GetRawText(), "execution");
            }

            if (now - pingedAt >= PingEvery)
            {
                pingedAt = now;
                yield return new SseItem<string>("{}", "ping");
            }

            // Entries that fell behind the overlap can no longer be read back: forget them.
            foreach (var old in sent.Where(p => p.Value < newest - Overlap - Overlap).Select(p => p.Key).ToList())
            {
                sent.Remove(old);
            }
        }
    }

    /// <summary>Changes since <paramref name="since"/> as feed rows; null when the session ended or the wait was cancelled.</summary>
    private static async Task<List<(DateTimeOffset UpdatedAt, JsonElement Row)>?> ReadAsync(IDocumentStore store, DashboardUser user, AccountCipher cipher, string token, ExecutionFilter filter,
        DateTimeOffset since, bool checkSession, TimeProvider time, CancellationToken cancel)
    {
        try
        {
            await using var session = store.QuerySession();
            if (checkSession && await DashboardSessions.ResolveAsync(session, token, time.GetUtcNow(), cancel) is null)
            {
                return null;
            }

            var query = filter.Apply(session.Query<ExecutionView>().Where(e => e.AccountId == user.Caller.AccountId));
            var page = await query.Where(e => e.UpdatedAt > since).OrderBy(e => e.UpdatedAt).Take(200).ToListAsync(cancel);
            var names = await CueNames.LoadAsync(session, user.Caller, page.Select(e => e.CueId), cancel);
            return [.. page.Select(e => (e.UpdatedAt, FeedRow.From(Wire.ToElement(e.ToResponse(cipher)), names)))];
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task<bool> WaitAsync(TimeSpan delay, TimeProvider time, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(delay, time, cancel);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>One execution as an audit-trail row: what the page's table shows, read from the API's Execution object.</summary>
public sealed record FeedRow(string Id, string Url, string ShortId, string CueId, string CueUrl, string CueName, string ScheduledFor, string ScheduledForDisplay,
    string TriggeredBy, string Status, int Attempts, string? HttpStatus, string? OutcomeState)
{
    public static JsonElement From(JsonElement execution, IReadOnlyDictionary<string, string> names) => Wire.ToElement(Of(execution, names));

    public static FeedRow Of(JsonElement execution, IReadOnlyDictionary<string, string> names)
    {
        var id = execution.Text("id") ?? "";
        var cueId = execution.Text("cue_id") ?? "";
        return new FeedRow(id, DashboardEndpoints.Root + "/executions/" + id, id.Length > 8 ? id[..8] : id, cueId, DashboardEndpoints.Root + "/cues/" + cueId,
            names.GetValueOrDefault(cueId, cueId), execution.Text("scheduled_for") ?? "", Times.Display(execution.Text("scheduled_for")),
            execution.Text("triggered_by") ?? "", execution.Text("status") ?? "", execution.Int("attempts"), execution.Text("http_status"), execution.Text("outcome_state"));
    }
}

/// <summary>Cue names for rows that show a cue id (a deleted cue keeps its id, without a name).</summary>
public static class CueNames
{
    public static async Task<IReadOnlyDictionary<string, string>> LoadAsync(IQuerySession session, Caller caller, IEnumerable<string> cueIds, CancellationToken cancellationToken)
    {
        var ids = cueIds.Distinct(StringComparer.Ordinal).ToArray();
        if (ids.Length == 0)
        {
            return new Dictionary<string, string>();
        }

        var cues = await session.LoadManyAsync<CueView>(cancellationToken, ids);
        return cues.Where(c => c.AccountId == caller.AccountId).ToDictionary(c => c.Id, c => c.Name, StringComparer.Ordinal);
    }
}
