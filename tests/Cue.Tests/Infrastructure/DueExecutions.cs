using System.Text.Json;
using Cue.Contracts;

namespace Cue.Tests.Infrastructure;

/// <summary>One once cue to create: it fires <see cref="Offset"/> after the batch's due instant and becomes one execution.</summary>
public sealed record OnceCue(string Key, Uri Callback, TimeSpan Offset = default, string VerificationMode = "none", int MaxAttempts = 1);

/// <summary>Delivered executions by <see cref="OnceCue.Key"/>, in a fresh account, with each cue's <c>scheduled_for</c>.</summary>
public sealed record DeliveredExecutions(CueApiClient.Account Account, IReadOnlyDictionary<string, JsonElement> ByKey, IReadOnlyDictionary<string, DateTimeOffset> DueAt);

/// <summary>
/// Real executions for tests of the execution API: creates once cues due a moment ahead in a new account
/// and waits until every one has been delivered (success or failed), so a fixture pays the wait once.
/// </summary>
public static class DueExecutions
{
    public static async Task<DeliveredExecutions> CreateAsync(CueApiClient api, CueStack stack, IReadOnlyList<OnceCue> cues)
    {
        // A slow machine (a cold API, parallel builds) can take longer to create the batch than the lead
        // allows; then 'at' has passed, and the batch starts over in a fresh account with a longer lead.
        var lead = TimeSpan.FromSeconds(2.5);
        for (var round = 1; ; round++, lead *= 2)
        {
            var account = await api.RegisterAsync("test");
            await api.GetAsync("/v1/executions", account.ApiKey);
            var due = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow + lead);
            var replies = await Task.WhenAll(cues.Select(cue => api.PostAsync("/v1/cues", account.ApiKey, new
            {
                name = cue.Key + "-" + Guid.NewGuid().ToString("N")[..8],
                schedule = new { type = "once", at = Timestamps.ToWire(due + cue.Offset) },
                callback = new { url = cue.Callback.ToString() },
                retry = new { max_attempts = cue.MaxAttempts, backoff_minutes = new[] { 1 } },
                verification = new { mode = cue.VerificationMode },
            })));
            if (replies.Any(r => r.Status == 400 && r.Json.GetProperty("error").GetProperty("code").GetString() == "invalid_schedule") && round < 3)
            {
                continue;
            }

            var cueIds = replies.Select((reply, i) => reply.Status == 201
                ? reply.Json.GetProperty("id").GetString()!
                : throw new InvalidOperationException($"Creating cue '{cues[i].Key}' answered {reply.Status}: {reply.Json}")).ToArray();

            var list = await api.PollAsync("/v1/executions?limit=100", account.ApiKey,
                j => j.GetProperty("total").GetInt32() == cues.Count
                     && j.GetProperty("executions").EnumerateArray().All(e => e.GetProperty("status").GetString() is "success" or "failed"),
                TimeSpan.FromSeconds(30));
            var byCue = list.GetProperty("executions").EnumerateArray().ToDictionary(e => e.GetProperty("cue_id").GetString()!);
            if (byCue.Count != cues.Count || cueIds.Any(id => !byCue.ContainsKey(id))
                || byCue.Values.Any(e => e.GetProperty("status").GetString() is not ("success" or "failed")))
            {
                throw new InvalidOperationException($"Expected {cues.Count} delivered executions, got {list}.\n{stack.Logs()}");
            }

            return new DeliveredExecutions(account,
                cues.Select((cue, i) => (cue.Key, byCue[cueIds[i]])).ToDictionary(p => p.Key, p => p.Item2),
                cues.ToDictionary(cue => cue.Key, cue => due + cue.Offset));
        }
    }
}
