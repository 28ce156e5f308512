using System.Globalization;
using System.Text;

namespace Cue.Bench;

/// <summary>The printed table: each figure's median and min–max over rounds, its target, and the raw limit it is judged against.</summary>
internal static class Report
{
    public sealed record Output(string Text, string Header, string Table, string Targets);

    public static Output Build(Plan plan, IReadOnlyList<Round> rounds, PagesResult pages, ServerInfo server, TimeSpan elapsed)
    {
        var heavy = rounds.Where(r => r.Quartz is not null && r.Burst is not null).ToList();
        var rows = new List<string[]>();
        rows.Add(["figure", "median", "min–max", "target", "raw limit (median)", "ratio"]);

        var rawPosts = Median(rounds.Select(r => r.RawPostsPerSecond));
        var commits1 = Median(rounds.Select(r => r.Commits1PerSecond));
        var commitsN = Median(rounds.Select(r => r.CommitsNPerSecond));
        var quartz = Median(heavy.Select(r => r.Quartz!.FiresPerSecond));

        void Row(string figure, IEnumerable<double> values, string format, string target = "", string? limitName = null, double limit = double.NaN, string limitFormat = "0")
        {
            var list = values.ToList();
            var finite = list.Where(double.IsFinite).ToList();
            var median = Stats.Median(list);
            rows.Add([
                figure,
                N(median, format),
                finite.Count == 0 ? "—" : $"{N(finite.Min(), format)}–{N(finite.Max(), format)}",
                target,
                limitName is null ? "" : $"{limitName} {N(limit, limitFormat)}",
                limitName is null || !double.IsFinite(limit) || !double.IsFinite(median) ? "" : N(median / limit, "0.000"),
            ]);
        }

        void Once(string figure, double value, string format, string target, string range)
        {
            rows.Add([figure, N(value, format), range, target, "", ""]);
        }

        rows.Add(["raw limits", "", "", "", "", ""]);
        Row("signed HttpClient POSTs/s to the receiver", rounds.Select(r => r.RawPostsPerSecond), "0");
        Row("PostgreSQL commits/s, 1 connection", rounds.Select(r => r.Commits1PerSecond), "0");
        Row($"PostgreSQL commits/s, {plan.CommitConnections} connections", rounds.Select(r => r.CommitsNPerSecond), "0");
        Row($"Quartz no-op fires/s, {plan.QuartzJobs:N0} triggers due at once", heavy.Select(r => r.Quartz!.FiresPerSecond), "0");
        Row("  Quartz: s from first to last fire", heavy.Select(r => r.Quartz!.FirstToLastSeconds), "0.00");
        Row("  Quartz: s from scheduler start to last fire", heavy.Select(r => r.Quartz!.StartToLastSeconds), "0.00");
        Row("  Quartz: triggers stored/s (not timed above)", heavy.Select(r => r.Quartz!.StoredPerSecond), "0");
        Row("  Quartz: fired / expected", heavy.Select(r => (double)r.Quartz!.Fired / r.Quartz.Expected), "0.0000", "1");

        rows.Add(["POST /v1/cues", "", "", "", "", ""]);
        Row("creates/s", rounds.Select(r => r.Creates.PerSecond), "0", "≥ 1000", $"PG commits/s ({plan.CommitConnections})", commitsN);
        Row("latency p50 ms", rounds.Select(r => r.Creates.P50), "0.0", "", "ms per commit (1 conn.)", 1000 / commits1, "0.00");
        Row("latency p99 ms", rounds.Select(r => r.Creates.P99), "0.0", "≤ 50");
        Row("non-201 answers", rounds.Select(r => (double)r.Creates.Failures), "0", "0");
        Row("  8 in flight: creates/s", rounds.Select(r => r.CreatesFew.PerSecond), "0");
        Row("  8 in flight: latency p50 ms", rounds.Select(r => r.CreatesFew.P50), "0.0");
        Row("  8 in flight: latency p99 ms", rounds.Select(r => r.CreatesFew.P99), "0.0");
        Row("  8 in flight: non-201 answers", rounds.Select(r => (double)r.CreatesFew.Failures), "0", "0");

        rows.Add([$"firing, {plan.FireRate}/s steady for {plan.FireSeconds} s", "", "", "", "", ""]);
        Row("lag p50 ms", rounds.Select(r => r.Firing.P50), "0.0", "≤ 50");
        Row("lag p90 ms", rounds.Select(r => r.Firing.P90), "0.0");
        Row("lag p99 ms", rounds.Select(r => r.Firing.P99), "0.0", "≤ 250");
        Row("lag max ms", rounds.Select(r => r.Firing.Max), "0.0");
        Row("fires delivered/s", rounds.Select(r => r.Firing.DeliveredPerSecond), "0.0", $"{plan.FireRate}", "POSTs/s", rawPosts);
        Row("delivered / expected", rounds.Select(r => (double)r.Firing.Delivered / r.Firing.Expected), "0.0000", "1");
        Row("cues created < 5 s before due", rounds.Select(r => (double)r.Firing.Late), "0", "0");
        Row("creates not 201", rounds.Select(r => (double)r.Firing.CreateFailures), "0", "0");

        rows.Add([$"burst, {plan.Burst:N0} once cues due in one second", "", "", "", "", ""]);
        Row("s from due to last delivery", heavy.Select(r => r.Burst!.LastDeliveredSeconds), "0.00", "≤ 10");
        Row("s from due to all recorded (audit log)", heavy.Select(r => r.Burst!.RecordedSeconds), "0.00", "≤ 10");
        Row("s from due to first delivery", heavy.Select(r => r.Burst!.FirstDeliveredSeconds), "0.00");
        Row("fires/s (delivered ÷ s to last delivery)", heavy.Select(r => r.Burst!.FiresPerSecond), "0", "≥ 1000", "Quartz fires/s", quartz);
        Row("delivered / expected", heavy.Select(r => (double)r.Burst!.Delivered / r.Burst.Expected), "0.0000", "1");
        Row("duplicates (same X-Cue-Execution-Id)", heavy.Select(r => (double)r.Burst!.Duplicates), "0", "0");
        Row("creates not 201", heavy.Select(r => (double)r.Burst!.CreateFailures), "0", "0");
        Row("s between the last create and the due second", heavy.Select(r => r.Burst!.CreatedSecondsBeforeDue), "0.0", "> 0");

        rows.Add([$"GET /v1/executions, {pages.Stored:N0} stored", "", "", "", "", ""]);
        foreach (var t in pages.Timings)
        {
            Once($"{t.Kind}: p50 ms", t.P50, "0.0", "", $"n={t.Requests}");
            Once($"{t.Kind}: p99 ms", t.P99, "0.0", "≤ 20", $"n={t.Requests}");
        }

        var header = new StringBuilder();
        header.AppendLine(CultureInfo.InvariantCulture, $"machine: {Machine(server)}");
        header.AppendLine(CultureInfo.InvariantCulture, $"PostgreSQL fsync: {server.Fsync} (synchronous_commit {server.SynchronousCommit})");
        header.AppendLine(CultureInfo.InvariantCulture,
            $"plan: {plan.Rounds} round(s) ({plan.HeavyRounds} with Quartz and burst); raw {plan.RawPosts} POSTs; commits {plan.CommitSeconds} s; " +
            $"{plan.Creates} creates; firing {plan.FireRate}/s for {plan.FireSeconds} s (grace {plan.Grace.TotalSeconds:0} s); " +
            $"Quartz {plan.QuartzJobs}; burst {plan.Burst}; pages: {plan.PageRequests} requests or {plan.PageTime.TotalSeconds:0} s per kind; concurrency 64");
        header.AppendLine(CultureInfo.InvariantCulture, $"run time: {Duration(elapsed)}");
        var table = new StringBuilder();
        var widths = Enumerable.Range(0, 6).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            var section = index > 0 && row[1].Length == 0 && row[3].Length == 0;
            table.AppendLine(section
                ? $"**{row[0]}**".PadRight(widths[0]) + string.Concat(widths.Skip(1).Select(w => " | " + new string(' ', w))).TrimEnd()
                : string.Join(" | ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[0]) : cell.PadLeft(widths[c]))).TrimEnd());
            if (index == 0)
            {
                table.AppendLine(string.Join("-|-", widths.Select(w => new string('-', w))));
            }
        }


        var targets = new StringBuilder();
        void Target(string name, bool met, string detail) => targets.AppendLine(CultureInfo.InvariantCulture, $"- {name}: **{(met ? "met" : "missed")}** ({detail})");
        var lagP50 = Median(rounds.Select(r => r.Firing.P50));
        var lagP99 = Median(rounds.Select(r => r.Firing.P99));
        Target($"firing lag at {plan.FireRate}/s, p50 ≤ 50 ms and p99 ≤ 250 ms", lagP50 <= 50 && lagP99 <= 250 && rounds.All(r => r.Firing.Delivered == r.Firing.Expected),
            $"median p50 {N(lagP50, "0.0")} ms, p99 {N(lagP99, "0.0")} ms");
        var last = heavy.Select(r => r.Burst!.LastDeliveredSeconds).ToList();
        var recorded = heavy.Select(r => r.Burst!.RecordedSeconds).ToList();
        Target($"burst of {plan.Burst:N0}: all delivered and recorded within 10 s",
            heavy.Count > 0 && heavy.All(r => r.Burst!.Delivered == r.Burst.Expected) && last.All(s => s <= 10) && recorded.All(s => s <= 10),
            $"last delivery {string.Join(", ", last.Select(s => N(s, "0.0")))} s, all recorded {string.Join(", ", recorded.Select(s => N(s, "0.0")))} s");
        var createRate = Median(rounds.Select(r => r.Creates.PerSecond));
        var createP99 = Median(rounds.Select(r => r.Creates.P99));
        Target("POST /v1/cues ≥ 1,000/s, p99 ≤ 50 ms", createRate >= 1000 && createP99 <= 50, $"median {N(createRate, "0")}/s, p99 {N(createP99, "0.0")} ms at 64 in flight");
        var worst = pages.Timings.MaxBy(t => t.P99)!;
        Target($"GET /v1/executions p99 ≤ 20 ms with {pages.Stored:N0} stored", pages.Timings.All(t => t.P99 <= 20), $"worst: {worst.Kind}, p99 {N(worst.P99, "0.0")} ms");
        var text = $"{header}\n{table}\nMedians and min–max over rounds; the GET /v1/executions rows are one measurement of n sequential requests.\n\n{targets}";
        return new Output(text, header.ToString(), table.ToString(), targets.ToString());
    }

    public static string Machine(ServerInfo server)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var gib = memory is not null && long.TryParse(memory.Split(' ')[0], CultureInfo.InvariantCulture, out var kb) ? $"{kb / 1024.0 / 1024:0.0} GiB" : "unknown memory";
        return $"{Environment.ProcessorCount} cores (nproc), {cpu ?? "unknown CPU"}, {gib}, {Environment.OSVersion}, .NET {Environment.Version}, PostgreSQL {server.Version.Split(' ')[0]}";
    }

    public static string Duration(TimeSpan elapsed) => elapsed.TotalMinutes >= 1 ? $"{(int)elapsed.TotalMinutes} min {elapsed.Seconds} s" : $"{elapsed.TotalSeconds:0} s";

    private static double Median(IEnumerable<double> values) => Stats.Median(values.ToList());

    private static string N(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}
