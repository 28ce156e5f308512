using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace Cue.Bench;

/// <summary>
/// <c>GET /v1/executions</c> on an account holding many executions. The account is seeded once and reused
/// across runs (found again through <c>bench_state</c> in the scratch database, checked by counting its
/// rows): a handful of real executions are fired through the product, then one real row of the execution
/// view's table is copied with <c>INSERT … SELECT … FROM generate_series</c>, changing ids, cue ids, status
/// and timestamps inside the JSON, so the rows have the product's own layout.
/// </summary>
internal static partial class ExecutionPages
{
    private const int RealCues = 4;

    public static async Task<PagesResult> RunAsync(
        ApiClient api, Receiver receiver, string product, string scratch, int rows, int requestsPerKind, TimeSpan timePerKind)
    {
        var (account, stored) = await SeedAsync(api, receiver, product, scratch, rows);
        var window = account.Newest - TimeSpan.FromDays(1);
        var kinds = new (string Kind, string Query)[]
        {
            ("first page (default limit 20)", "/v1/executions"),
            ("status=success&cue_id=…", $"/v1/executions?status=success&cue_id={account.CueIds[0]}"),
            ("since/until (one day)", $"/v1/executions?since={Wire(window - TimeSpan.FromDays(1))}&until={Wire(window)}"),
            ($"offset={stored / 2}", $"/v1/executions?offset={stored / 2}"),
        };

        var timings = new List<PageTiming>();
        foreach (var (kind, query) in kinds)
        {
            Console.Error.WriteLine($"cue bench: GET {query}");
            for (var i = 0; i < 3; i++)
            {
                await api.TimedGetAsync(account.ApiKey, query); // warm-up, not counted
            }

            var latencies = new List<double>();
            var started = TimeProvider.System.GetUtcNow();
            while (latencies.Count < requestsPerKind && TimeProvider.System.GetUtcNow() - started < timePerKind)
            {
                var (status, ms, body) = await api.TimedGetAsync(account.ApiKey, query);
                if (status != 200)
                {
                    throw new InvalidOperationException($"GET {query} answered {status}: {body}");
                }

                latencies.Add(ms);
            }

            latencies.Sort();
            timings.Add(new PageTiming(kind, query, Stats.Percentile(latencies, 50), Stats.Percentile(latencies, 99), latencies.Count));
        }

        var slowest = timings.MaxBy(t => t.P99)!;
        var explain = await ExplainAsync(api, account, product, slowest);
        return new PagesResult(stored, timings, slowest.Kind, explain);
    }

    private static async Task<(BenchAccount Account, long Stored)> SeedAsync(ApiClient api, Receiver receiver, string product, string scratch, int rows)
    {
        var database = new NpgsqlConnectionStringBuilder(product).Database!;
        await using var state = new NpgsqlConnection(scratch);
        await state.OpenAsync();
        await Exec(state, "CREATE TABLE IF NOT EXISTS bench_state (database text NOT NULL, name text NOT NULL, value text NOT NULL, PRIMARY KEY (database, name))");
        BenchAccount? account = null;
        await using (var read = new NpgsqlCommand("SELECT value FROM bench_state WHERE database = $1 AND name = 'executions_account'", state) { Parameters = { new() { Value = database } } })
        {
            if (await read.ExecuteScalarAsync() is string json)
            {
                account = JsonSerializer.Deserialize<BenchAccount>(json);
            }
        }

        await using var db = new NpgsqlConnection(product);
        await db.OpenAsync();
        var table = await ViewTableAsync(db);
        if (account is not null)
        {
            try
            {
                await api.MeAsync(account.ApiKey);
            }
            catch (InvalidOperationException)
            {
                Console.Error.WriteLine("cue bench: the stored executions account is gone (a new database?); seeding a new one");
                account = null;
            }
        }

        if (account is null)
        {
            account = await FireRealExecutionsAsync(api, receiver, db, table);
            await using var write = new NpgsqlCommand(
                "INSERT INTO bench_state (database, name, value) VALUES ($1, 'executions_account', $2) ON CONFLICT (database, name) DO UPDATE SET value = EXCLUDED.value",
                state) { Parameters = { new() { Value = database }, new() { Value = JsonSerializer.Serialize(account) } } };
            await write.ExecuteNonQueryAsync();
        }

        var stored = await CountAsync(db, table, account.AccountId);
        if (stored < rows)
        {
            Console.Error.WriteLine($"cue bench: seeding {rows - stored:N0} execution rows (found {stored:N0}; done once, reused by later runs)");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await SeedRowsAsync(db, table, account, stored + 1, rows);
            // VACUUM as well as ANALYZE: what autovacuum does to a table soon after a bulk load anyway. Without it the
            // first pages measured set hint bits on a million fresh rows, and counts cannot run index-only (no
            // visibility map yet): the first full run measured 368 ms for a first page that takes tens after it.
            await Exec(db, $"VACUUM (ANALYZE) {table}");
            stored = await CountAsync(db, table, account.AccountId);
            Console.Error.WriteLine($"cue bench: seeded in {watch.Elapsed.TotalSeconds:0} s, then VACUUM (ANALYZE)");
        }
        else
        {
            Console.Error.WriteLine($"cue bench: reusing {stored:N0} stored executions of the bench account");
        }

        return (account, stored);
    }

    /// <summary>The execution view's table, qualified with the schema Marten put it in.</summary>
    private static async Task<string> ViewTableAsync(NpgsqlConnection db)
    {
        await using var find = new NpgsqlCommand(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables WHERE table_name = 'mt_doc_executionview' LIMIT 1", db);
        return (string?)await find.ExecuteScalarAsync()
            ?? throw new InvalidOperationException("no mt_doc_executionview table in the product database: has the API started on it?");
    }

    private static async Task<long> CountAsync(NpgsqlConnection db, string table, Guid accountId)
    {
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table} WHERE account_id = $1", db) { Parameters = { new() { Value = accountId } } };
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>A new account with <see cref="RealCues"/> once cues fired through the product and recorded as successes.</summary>
    private static async Task<BenchAccount> FireRealExecutionsAsync(ApiClient api, Receiver receiver, NpgsqlConnection db, string table)
    {
        var account = await api.RegisterAsync();
        var at = Wire(TimeProvider.System.GetUtcNow().AddSeconds(3));
        var cueIds = new List<string>();
        for (var i = 0; i < RealCues; i++)
        {
            var (status, json) = await api.CreateOnceAsync(account.ApiKey, $"pages-{i}", at, new Uri(receiver.Url, "/pages"));
            cueIds.Add(status == 201 ? json.GetProperty("id").GetString()! : throw new InvalidOperationException($"create answered {status}: {json}"));
        }

        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (true)
        {
            var (_, json) = await api.GetAsync(account.ApiKey, "/v1/executions?status=success");
            if (json.GetProperty("total").GetInt32() >= RealCues)
            {
                break;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new InvalidOperationException("the real executions of the bench account were not recorded as successes within 60 s");
            }

            await Task.Delay(500);
        }

        // /v1/auth/me does not say the account id; the cue ids (unique over all accounts) lead to it.
        await using var template = new NpgsqlCommand($"SELECT id, scheduled_for, account_id FROM {table} WHERE cue_id = ANY($1) ORDER BY created_at LIMIT 1", db)
        {
            Parameters = { new() { Value = cueIds.ToArray() } },
        };
        await using var reader = await template.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new InvalidOperationException($"no execution row of the bench cues in {table}");
        }

        return new BenchAccount(account.ApiKey, reader.GetGuid(2), reader.GetString(0), [.. cueIds], reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>
    /// Rows <paramref name="from"/>…<paramref name="to"/>: copies of the template row, one scheduled every 2.5 s going
    /// back from it, cycling over the real cues; every tenth a failure (HTTP 500) so status filters select something.
    /// Ids are UUIDs derived from the account and the row number, so a later top-up never collides.
    /// </summary>
    private static async Task SeedRowsAsync(NpgsqlConnection db, string table, BenchAccount account, long from, long to)
    {
        await Exec(db, "SET TimeZone = 'UTC'");
        const int Chunk = 100_000;
        for (var start = from; start <= to; start += Chunk)
        {
            var end = Math.Min(to, start + Chunk - 1);
            var sql = $"""
                INSERT INTO {table} (id, data, mt_last_modified, mt_dotnet_type, mt_version, account_id, created_at, cue_id, status, triggered_by, scheduled_for, finished_at, outcome_state)
                SELECT g.id, t.data || jsonb_build_object(
                        'id', g.id, 'cueId', g.cue_id, 'status', g.status, 'httpStatus', g.http,
                        'scheduledFor', g.sched, 'createdAt', g.created, 'startedAt', g.created, 'lastAttemptAt', g.created,
                        'updatedAt', g.finished, 'finishedAt', g.finished, 'deliveredAt', CASE WHEN g.ok THEN to_jsonb(g.finished) ELSE 'null'::jsonb END,
                        'errorMessage', CASE WHEN g.ok THEN 'null'::jsonb ELSE to_jsonb('HTTP 500'::text) END,
                        'attemptLog', jsonb_build_array(t.data->'attemptLog'->0 || jsonb_build_object(
                            'startedAt', g.created, 'finishedAt', g.finished, 'httpStatus', g.http,
                            'result', CASE WHEN g.ok THEN 'success' ELSE 'retryable_failure' END,
                            'errorMessage', CASE WHEN g.ok THEN 'null'::jsonb ELSE to_jsonb('HTTP 500'::text) END))),
                    now(), t.mt_dotnet_type, t.mt_version, t.account_id, g.created, g.cue_id, g.status, t.triggered_by, g.sched, g.finished, t.outcome_state
                FROM {table} t
                CROSS JOIN LATERAL (
                    SELECT md5(t.account_id::text || ':' || n)::uuid::text AS id,
                           ($3::text[])[1 + n % array_length($3::text[], 1)] AS cue_id,
                           n % 10 <> 0 AS ok,
                           CASE WHEN n % 10 <> 0 THEN 'success' ELSE 'failed' END AS status,
                           CASE WHEN n % 10 <> 0 THEN 200 ELSE 500 END AS http,
                           t.scheduled_for - n * interval '2.5 seconds' AS sched,
                           t.scheduled_for - n * interval '2.5 seconds' + interval '15 milliseconds' AS created,
                           t.scheduled_for - n * interval '2.5 seconds' + interval '60 milliseconds' AS finished
                    FROM generate_series($1::bigint, $2::bigint) AS n) g
                WHERE t.id = $4
                """;
            await using var insert = new NpgsqlCommand(sql, db)
            {
                CommandTimeout = 600,
                Parameters = { new() { Value = start }, new() { Value = end }, new() { Value = account.CueIds }, new() { Value = account.TemplateId } },
            };
            await insert.ExecuteNonQueryAsync();
            Console.Error.WriteLine($"cue bench:   … {end:N0}");
        }
    }

    /// <summary>
    /// <c>EXPLAIN (ANALYZE, BUFFERS)</c> of the statements behind one kind of page. pg_stat_statements needs
    /// shared_preload_libraries and log_min_duration_statement a superuser, so the SQL is read from
    /// pg_stat_activity while that page is requested in a loop (the product's own statements, with $n
    /// placeholders), and the placeholders are filled with the values the bench sent.
    /// </summary>
    private static async Task<string> ExplainAsync(ApiClient api, BenchAccount account, string product, PageTiming page)
    {
        await using var db = new NpgsqlConnection(product);
        await db.OpenAsync();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // An idle connection keeps showing its last statement: only those started after this instant count.
        await using var clock = new NpgsqlCommand("SELECT clock_timestamp()", db);
        var since = (DateTime)(await clock.ExecuteScalarAsync())!;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await api.TimedGetAsync(account.ApiKey, page.Query);
            }
        });
        while (!stop.IsCancellationRequested && seen.Count < 2)
        {
            await using var sample = new NpgsqlCommand(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query_start > $1 " +
                "AND query LIKE '%mt_doc_executionview%' AND query NOT LIKE '%pg_stat_activity%'",
                db) { Parameters = { new() { Value = since } } };
            await using var reader = await sample.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                seen.Add(reader.GetString(0));
            }
        }

        await stop.CancelAsync();
        await load;

        var query = page.Query.Contains('?', StringComparison.Ordinal)
            ? page.Query[(page.Query.IndexOf('?', StringComparison.Ordinal) + 1)..].Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]))
            : [];
        var text = new StringBuilder();
        foreach (var sql in seen.OrderBy(s => s.Length))
        {
            var literal = Fill(sql, account, query);
            text.AppendLine("-- " + sql.ReplaceLineEndings(" "));
            if (literal is null)
            {
                text.AppendLine("-- (a placeholder could not be matched to a value the bench sent: not explained)");
                continue;
            }

            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS) " + literal, db);
            await using var reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.GetString(0));
            }

            text.AppendLine();
        }

        return seen.Count == 0 ? "(no statement on mt_doc_executionview seen in pg_stat_activity within 8 s)" : text.ToString().TrimEnd();
    }

    [GeneratedRegex(@"(\w+)\s*(=|>=|<=|<|>)\s*\$(\d+)|(LIMIT|OFFSET)\s+\$(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\$(\d+)")]
    private static partial Regex AnyPlaceholder();

    /// <summary>The statement with each $n replaced by the literal the bench sent for the column it is compared with; null if any is unknown.</summary>
    private static string? Fill(string sql, BenchAccount account, Dictionary<string, string> query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Placeholder().Matches(sql))
        {
            var (column, op, n) = m.Groups[1].Success ? (m.Groups[1].Value.ToLowerInvariant(), m.Groups[2].Value, m.Groups[3].Value) : (m.Groups[4].Value.ToLowerInvariant(), "", m.Groups[5].Value);
            string? value = column switch
            {
                "account_id" => $"'{account.AccountId}'",
                "cue_id" when query.TryGetValue("cue_id", out var v) => Quote(v),
                "status" when query.TryGetValue("status", out var v) => Quote(v),
                "scheduled_for" when op == ">=" && query.TryGetValue("since", out var v) => Quote(v) + "::timestamptz",
                "scheduled_for" when op == "<" && query.TryGetValue("until", out var v) => Quote(v) + "::timestamptz",
                "limit" => query.GetValueOrDefault("limit", "20"),
                "offset" => query.GetValueOrDefault("offset", "0"),
                _ => null,
            };
            if (value is not null)
            {
                values[n] = value;
            }
        }

        var missing = false;
        var filled = AnyPlaceholder().Replace(sql, m =>
        {
            if (values.TryGetValue(m.Groups[1].Value, out var v))
            {
                return v;
            }

            missing = true;
            return m.Value;
        });
        return missing ? null : filled;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Wire(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    internal sealed record BenchAccount(string ApiKey, Guid AccountId, string TemplateId, string[] CueIds, DateTimeOffset Newest);
}

internal sealed record PageTiming(string Kind, string Query, double P50, double P99, int Requests);

internal sealed record PagesResult(long Stored, IReadOnlyList<PageTiming> Timings, string SlowestKind, string Explain);
