using System.Globalization;
using System.Text;

namespace Ovasabi.Bench;

/// <summary>Everything one run measured, for the report.</summary>
internal sealed record BenchResults(
    BenchOptions Options,
    DateTimeOffset StartedAt,
    string LoadBefore,
    string LoadAfter,
    TimeSpan PlatformStartup,
    LoadResult Transfers,
    AppProfile TransferProfile,
    string OutboxAfterTransfers,
    PgBenchResult PgBench,
    LoadResult Balances,
    AppProfile BalanceProfile,
    double? BalanceCacheHitRatio,
    RedisBenchmarkResult Redis,
    FloorResults Floor);

/// <summary>
/// The floor phase: Echo/Say, a call with no work in it, to the echo server directly, through its own sidecar, and
/// through the gateway's sidecar and its own, the hops of a GetBalance.
/// </summary>
internal sealed record FloorResults(LoadResult Direct, LoadResult OwnSidecar, LoadResult TwoSidecars)
{
    public IReadOnlyList<(string Hops, LoadResult Result)> Variants => [("direct", Direct), ("own sidecar", OwnSidecar), ("two sidecars", TwoSidecars)];
}

/// <summary>The results as a markdown table with the full-stack figures, the raw backends' and their ratios.</summary>
internal static class Report
{
    public static string Markdown(BenchResults r)
    {
        var o = r.Options;
        var text = new StringBuilder();
        text.AppendLine("# Finance benchmark").AppendLine();
        text.AppendLine(Invariant($"Run {r.StartedAt:yyyy-MM-dd HH:mm} UTC{(o.Quick ? " (quick mode: a smoke run, not figures to quote)" : "")} on {Environment.ProcessorCount} cores, everything on this machine; load average (1/5/15 min) {r.LoadBefore} before, {r.LoadAfter} after; platform start-up {r.PlatformStartup.TotalSeconds:0} s."));
        var floorWarmups = string.Join(", ", r.Floor.Variants.Select(v => $"{v.Hops} {Warmup(v.Result, "echo server")}"));
        text.AppendLine(Invariant($"{o.Concurrency} concurrent clients in every phase. Ours: {o.Accounts} accounts, a warm-up of at least {o.Warmup.TotalSeconds:0} s until the rate settles and the watched app's JIT is quiet (transfers {Warmup(r.Transfers, "finance app")}, reads {Warmup(r.Balances, "finance app")}, floor {floorWarmups}), then {o.Duration.TotalSeconds:0} s measured; transfers of EUR 0.01–{BenchOptions.MaxTransferMinorUnits / 100m:0.00} with a new idempotency key each. pgbench: TPC-B (built-in script), scale {o.PgbenchScale}, `-c {o.Concurrency} -j {Math.Min(2, o.Concurrency)} -T {o.Duration.TotalSeconds:0} -M prepared`. redis-benchmark: `-t get -c {o.Concurrency} -n {r.Redis.Requests}`, value of {r.Redis.ValueBytes} bytes (a cached balance's size). Floor: Echo/Say of a {Benchmark.FloorText.Length}-character text to an echo server (Kestrel, HTTP/2 on loopback), directly, through its own dev sidecar, and through the gateway's sidecar and its own as a GetBalance goes."));
        text.AppendLine();

        var t = r.Transfers.Latency;
        var p = r.PgBench.Latency;
        var b = r.Balances.Latency;
        var d = r.Redis.Latency;
        List<string[]> rows =
        [
            Row("**writes**: finance Transfer ÷ pgbench TPC-B", Invariant($"{r.Transfers.PerSecond:N1} transfers/s"), Invariant($"{r.PgBench.Tps:N1} tps"), Ratio(r.Transfers.PerSecond, r.PgBench.Tps)),
            LatencyRow("write latency p50", t?.P50, p?.P50),
            LatencyRow("write latency p95", t?.P95, p?.P95),
            LatencyRow("write latency p99", t?.P99, p?.P99),
            LatencyRow("write latency max", t?.Max, p?.Max),
            LatencyRow("write latency mean (pgbench: its latency average)", t?.Mean, r.PgBench.LatencyAverage),
            Row("**reads**: cached GetBalance ÷ redis GET", Invariant($"{r.Balances.PerSecond:N0} rps"), Invariant($"{r.Redis.Rps:N0} rps"), Ratio(r.Balances.PerSecond, r.Redis.Rps)),
            LatencyRow("read latency p50", b?.P50, d.P50),
            LatencyRow("read latency p99", b?.P99, d.P99),
            .. r.Floor.Variants.SelectMany(v => new[]
            {
                Row($"**floor, {v.Hops}**: echo Say ÷ redis GET", Invariant($"{v.Result.PerSecond:N0} rps"), Invariant($"{r.Redis.Rps:N0} rps"), Ratio(v.Result.PerSecond, r.Redis.Rps)),
                LatencyRow($"floor {v.Hops} latency p50", v.Result.Latency?.P50, d.P50),
                LatencyRow($"floor {v.Hops} latency p99", v.Result.Latency?.P99, d.P99),
            }),
        ];
        text.Append(Table(["measure", "full stack", "raw backend", "ratio (full ÷ raw)"], rows)).AppendLine();

        text.AppendLine("Outcomes in the measured windows:").AppendLine();
        text.AppendLine(Invariant($"- transfers: {r.Transfers.Succeeded:N0} completed; insufficient funds (a business answer, not an error): {r.Transfers.Business.GetValueOrDefault(Benchmark.InsufficientFunds):N0}; errors: {Errors(r.Transfers)}"));
        text.AppendLine(Invariant($"- outbox after the transfers: {r.OutboxAfterTransfers}"));
        text.AppendLine(Invariant($"- pgbench: {r.PgBench.Transactions:N0} transactions, {r.PgBench.Failed:N0} failed; percentiles from its per-transaction log (`-l`)"));
        var hits = r.BalanceCacheHitRatio is { } ratio ? Invariant($"{ratio:P1} of the finance app's balance-cache lookups were hits") : "the finance app reported no balance-cache lookups";
        text.AppendLine(Invariant($"- GetBalance: {r.Balances.Succeeded:N0} answered; errors: {Errors(r.Balances)}; {hits}"));
        text.AppendLine(Invariant($"- redis-benchmark: {r.Redis.Requests:N0} GETs"));
        foreach (var (hops, result) in r.Floor.Variants)
        {
            text.AppendLine(Invariant($"- floor, {hops}: {result.Succeeded:N0} answered; errors: {Errors(result)}"));
        }
        text.AppendLine(Invariant($"- GetBalance ÷ the floor through two sidecars (the same hops): {Ratio(r.Balances.PerSecond, r.Floor.TwoSidecars.PerSecond)} of its rate, {CpuMsPerCall(r.Balances):0.00} ms of CPU per call against {CpuMsPerCall(r.Floor.TwoSidecars):0.00} ms"));
        if (o.Profile)
        {
            text.AppendLine("Tracing was on (`--profile`): every app call was recorded and exported, so these figures include its cost.");
        }
        text.AppendLine();
        text.AppendLine("Where the finance app spent each phase (its own metrics, warm-up included; the parts overlap):").AppendLine();
        text.AppendLine(Profile(r.TransferProfile));
        text.AppendLine(Profile(r.BalanceProfile));
        text.AppendLine();
        text.AppendLine("CPU per call in the measured windows (user + system, from /proc; everything on this machine shares its cores):").AppendLine();
        text.AppendLine(CpuPerCall("Transfer", r.Transfers));
        text.AppendLine(CpuPerCall("GetBalance", r.Balances));
        foreach (var (hops, result) in r.Floor.Variants)
        {
            text.AppendLine(CpuPerCall($"Say, {hops}", result));
        }
        text.AppendLine();
        text.AppendLine("Throughput ratios below 1 and latency ratios above 1 are the price of the full stack: client → caller's sidecar → finance sidecar → finance app (→ user service through the sidecars, transfers only) → PostgreSQL or Redis. The floor is the price of the hops alone, with no work at their end. See bench/README.md.");
        return text.ToString();
    }

    private static string Profile(AppProfile p) => Invariant(
        $"- {p.Method}: {p.Calls:N0} calls, {p.AppMs:N1} ms each inside the app; per call {p.SidecarCalls:N1} calls to its sidecar of {p.SidecarMs:N1} ms on average and {p.DatabaseOperations:N1} PostgreSQL operations of {p.DatabaseMs:N1} ms");

    private static string Errors(LoadResult result) => result.Errors.Count == 0
        ? "none"
        : string.Join(", ", result.Errors.OrderByDescending(kv => kv.Value).Select(kv => Invariant($"{kv.Key} {kv.Value:N0}")));

    private static string[] Row(params string[] cells) => cells;

    private static string[] LatencyRow(string name, double? full, double? raw) =>
        [name, Ms(full), Ms(raw), full is { } f && raw is { } w && w > 0 ? Invariant($"{f / w:N1}×") : "–"];

    private static string Ms(double? value) => value is { } v ? Invariant($"{v:N2} ms") : "–";

    private static string Ratio(double full, double raw) => raw > 0 ? Invariant($"{full / raw:N3}") : "–";

    // Padded, so the same text reads as a table in a terminal and renders as one in markdown.
    private static string Table(string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";
        var text = new StringBuilder();
        text.AppendLine(Line(header));
        text.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var row in rows)
        {
            text.AppendLine(Line(row));
        }
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Warmup(LoadResult result, string watchedApp) =>
        Invariant($"{(result.Settled ? "settled after" : "had not settled after")} {result.WarmedUp.TotalSeconds:0} s; the {watchedApp} compiled {result.CompiledInWindow:N0} methods while measured");

    /// <summary>Each process's CPU milliseconds per completed call of the phase, busiest first, and their sum.</summary>
    private static string CpuPerCall(string call, LoadResult result)
    {
        var calls = Answered(result);
        var parts = result.Cpu.Where(p => p.Cpu > TimeSpan.Zero).OrderByDescending(p => p.Cpu)
            .Select(p => Invariant($"{p.Process} {p.Cpu.TotalMilliseconds / calls:0.00}"));
        return Invariant($"- {call}: {CpuMsPerCall(result):0.00} ms in all: {string.Join(", ", parts)}");
    }

    /// <summary>The CPU milliseconds of every process of the phase per completed call.</summary>
    private static double CpuMsPerCall(LoadResult result) => result.Cpu.Sum(p => p.Cpu.TotalMilliseconds) / Answered(result);

    private static long Answered(LoadResult result) => Math.Max(1, result.Succeeded + result.Business.Values.Sum());
}
