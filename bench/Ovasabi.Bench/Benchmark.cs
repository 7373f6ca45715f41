using System.Diagnostics;
using static System.FormattableString;
using Grpc.Core;
using Grpc.Net.Client;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Protos;

namespace Ovasabi.Bench;

/// <summary>One run: the platform up, the five phases one after another, the report, the platform down.</summary>
internal static class Benchmark
{
    public const string InsufficientFunds = "insufficient funds";

    /// <summary>What every Say of the floor phase sends, and gets back.</summary>
    public const string FloorText = "floor";

    private static readonly TimeSpan SetupCallTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan OutboxDrainTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var loadBefore = LoadAverage();
        var collector = options.Profile ? await StartTracingAsync() : null;
        // The runtime optimises a hot method only after 100 ms without a new method being compiled, which a loaded
        // service keeps postponing for a minute. Without the delay the platform (it inherits this environment) is warm
        // in seconds, at the same steady-state cost (bench/README.md); its short-lived test runs keep the default.
        Environment.SetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0");
        var platform = new BenchPlatform(collector?.SidecarConfig);
        try
        {
            Log("starting the platform: PostgreSQL, Redis, user, auth and finance apps with their dev sidecars");
            var clock = Stopwatch.StartNew();
            await platform.InitializeAsync();
            var startup = clock.Elapsed;
            cancellationToken.ThrowIfCancellationRequested();
            Log($"platform ready in {startup.TotalSeconds:0.0} s");

            var accounts = await CreateAccountsAsync(platform, options, cancellationToken);
            var (transfers, transferProfile) = await TransfersAsync(platform, accounts, options, cancellationToken);
            var outbox = await DrainOutboxAsync(platform, cancellationToken);
            if (collector is not null)
            {
                await TraceSlowestTransferAsync(platform, collector, accounts, options, cancellationToken);
            }

            Log($"pgbench TPC-B: init scale {options.PgbenchScale}, then {options.Duration.TotalSeconds:0} s");
            var pgbench = await PgBench.RunAsync(platform.Postgres, options.Concurrency, options.PgbenchScale, options.Duration, cancellationToken);
            Log($"pgbench: {pgbench.Transactions:N0} transactions, {pgbench.Tps:N1} tps");

            var (balances, balanceProfile, hitRatio) = await CachedBalancesAsync(platform, accounts, options, cancellationToken);

            Log("redis-benchmark GET");
            var redis = await RedisBenchmark.RunAsync(platform.Redis, platform.RedisDatabase, options.Concurrency, options.RedisRequests, options.Duration, cancellationToken);
            Log($"redis-benchmark: {redis.Rps:N0} rps");

            var floor = await FloorAsync(platform, options, redis.Rps, cancellationToken);

            return await WriteReportAsync(Report.Markdown(new BenchResults(
                options, startedAt, loadBefore, LoadAverage(), startup, transfers, transferProfile, outbox, pgbench, balances, balanceProfile, hitRatio, redis, floor)), options.Output);
        }
        catch (Exception e)
        {
            return await FailedAsync(e, cancellationToken);
        }
        finally
        {
            await StopAsync(platform);
            if (collector is not null)
            {
                await collector.DisposeAsync();
            }
        }
    }

    /// <summary>Prints the report and writes it to <paramref name="output"/>; 0.</summary>
    internal static async Task<int> WriteReportAsync(string report, string output)
    {
        Console.WriteLine();
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report, CancellationToken.None);
        Log($"written to {output}");
        return 0;
    }

    /// <summary>The exit code of a run that threw: 130 when cancelled, else 1 with the error printed.</summary>
    internal static async Task<int> FailedAsync(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            Log("cancelled");
            return 130;
        }
        await Console.Error.WriteLineAsync($"benchmark failed: {e}");
        return 1;
    }

    /// <summary>Stops every process the platform started; a failure to is reported, not thrown.</summary>
    internal static async Task StopAsync(IAsyncDisposable platform)
    {
        Log("stopping the platform");
        try
        {
            await platform.DisposeAsync();
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"stopping the platform failed: {e.Message}");
        }
    }

    /// <summary>
    /// The trace receiver, and the environment that makes every app the platform starts export its spans to it
    /// quickly (the processes inherit the benchmark's environment).
    /// </summary>
    private static async Task<TraceCollector> StartTracingAsync()
    {
        var collector = await TraceCollector.StartAsync();
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Endpoint);
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        Environment.SetEnvironmentVariable("OTEL_BSP_SCHEDULE_DELAY", "200");
        Log($"--profile: the apps and their sidecars trace every call and export the spans to {collector.Endpoint}");
        return collector;
    }

    /// <summary>
    /// Transfers as in the measured phase, for a few seconds, each with a trace ID of its own; the spans of the slowest
    /// one go to <c>&lt;output&gt;.trace.md</c>.
    /// </summary>
    private static async Task TraceSlowestTransferAsync(BenchPlatform platform, TraceCollector collector, string[] accounts, BenchOptions options, CancellationToken cancellationToken)
    {
        var window = TimeSpan.FromSeconds(5);
        Log($"profile: {options.Concurrency} clients for {window.TotalSeconds:0} s, each transfer traced");
        var finance = platform.FinanceAsAdmin();
        var slowest = (Took: TimeSpan.Zero, TraceId: "");
        var gate = new Lock();
        var until = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until && !cancellationToken.IsCancellationRequested)
            {
                var (traceId, traceParent) = TraceCollector.NewMarkedTrace();
                var started = Stopwatch.GetTimestamp();
                await finance.TransferAsync(NewTransfer(accounts), new Metadata { { "traceparent", traceParent } },
                    DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken);
                var took = Stopwatch.GetElapsedTime(started);
                lock (gate)
                {
                    if (took > slowest.Took)
                    {
                        slowest = (took, traceId);
                    }
                }
            }
        }, cancellationToken)));
        var spans = await collector.SpansAsync(slowest.TraceId, TimeSpan.FromSeconds(15), cancellationToken);
        var file = Path.ChangeExtension(options.Output, ".trace.md");
        await File.WriteAllTextAsync(file, Invariant($"""
            # The slowest of {window.TotalSeconds:0} s of transfers at {options.Concurrency} clients

            Transfer, {slowest.Took.TotalMilliseconds:0.0} ms at the client, trace `{slowest.TraceId}`: the spans the apps and their sidecars
            recorded (server spans, calls to the sidecar and between sidecars, SQL), by start; the caller's own sidecar records none (it
            runs without a Configuration). Time between spans went to the network and to waiting for a CPU.

            {TraceCollector.Waterfall(spans)}
            """), CancellationToken.None);
        Log($"profile: the slowest transfer took {slowest.Took.TotalMilliseconds:0.0} ms; its {spans.Count} spans are in {file}");
    }

    /// <summary>Users with one generous deposit each, created a few at a time (each sign-up hashes a password with Argon2id).</summary>
    private static async Task<string[]> CreateAccountsAsync(BenchPlatform platform, BenchOptions options, CancellationToken cancellationToken)
    {
        Log($"creating and funding {options.Accounts} accounts");
        var accounts = new string[options.Accounts];
        await Parallel.ForAsync(0, options.Accounts, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (i, token) =>
        {
            accounts[i] = await platform.NewUserIdAsync().WaitAsync(SetupCallTimeout, token);
            await platform.FundAsync(accounts[i], BenchOptions.FundingMinorUnits, BenchOptions.Currency).WaitAsync(SetupCallTimeout, token);
        });
        return accounts;
    }

    private static async Task<(LoadResult Result, AppProfile Profile)> TransfersAsync(BenchPlatform platform, string[] accounts, BenchOptions options, CancellationToken cancellationToken)
    {
        Log($"transfers: {options.Concurrency} clients, {options.Warmup.TotalSeconds:0} s warm-up, {options.Duration.TotalSeconds:0} s measured");
        var finance = platform.FinanceAsAdmin();
        // A few transfers one at a time first, so the path is compiled and connected before the clock runs.
        for (var i = 0; i < Math.Min(accounts.Length, 10); i++)
        {
            await finance.TransferAsync(new TransferRequest
            {
                IdempotencyKey = Guid.NewGuid().ToString(),
                FromUserId = accounts[i],
                ToUserId = accounts[(i + 1) % accounts.Length],
                Amount = new Money { CurrencyCode = BenchOptions.Currency, MinorUnits = 1 },
            }, deadline: DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken: cancellationToken);
        }
        var before = await AppMetrics.ScrapeAsync(platform, cancellationToken);
        var result = await ClosedLoop.RunAsync(options.Concurrency, options.Warmup, options.Duration, async token =>
            await finance.TransferAsync(NewTransfer(accounts), deadline: DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken: token),
        e => e.StatusCode == StatusCode.FailedPrecondition && Rpc.Reason(e) == "INSUFFICIENT_FUNDS" ? InsufficientFunds : null,
        platform.Cpu(),
        token => CompiledMethodsAsync(platform, token),
        cancellationToken);
        var profile = AppProfile.Between(before, await AppMetrics.ScrapeAsync(platform, cancellationToken), "Transfer", platform.FinanceSidecar.GrpcPort);
        Log($"transfers: {result.Succeeded:N0} completed, {result.PerSecond:N1}/s, {result.ErrorCount:N0} errors");
        return (result, profile);
    }

    /// <summary>A transfer of EUR 0.01–1.00 between two random accounts, with a new idempotency key.</summary>
    private static TransferRequest NewTransfer(string[] accounts)
    {
        var from = Random.Shared.Next(accounts.Length);
        var to = Random.Shared.Next(accounts.Length - 1);
        to += to >= from ? 1 : 0;
        return new TransferRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            FromUserId = accounts[from],
            ToUserId = accounts[to],
            Amount = new Money { CurrencyCode = BenchOptions.Currency, MinorUnits = Random.Shared.Next(1, BenchOptions.MaxTransferMinorUnits + 1) },
        };
    }

    /// <summary>
    /// Waits (bounded) until the finance outbox has published every transfer's event, so that work does not run into
    /// the next phase; returns what happened, for the report.
    /// </summary>
    private static async Task<string> DrainOutboxAsync(BenchPlatform platform, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var pending = await platform.FinanceScalarAsync<long>("SELECT count(*) FROM service_event WHERE published_at IS NULL");
            if (pending == 0)
            {
                Log($"outbox drained in {clock.Elapsed.TotalSeconds:0.0} s");
                return $"drained in {clock.Elapsed.TotalSeconds:0.0} s";
            }
            if (clock.Elapsed > OutboxDrainTimeout)
            {
                Log($"outbox still holds {pending} unpublished events after {OutboxDrainTimeout.TotalSeconds:0} s; going on");
                return $"{pending:N0} events still unpublished after {OutboxDrainTimeout.TotalSeconds:0} s (they were published during the next phases)";
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    private static async Task<(LoadResult Result, AppProfile Profile, double? HitRatio)> CachedBalancesAsync(BenchPlatform platform, string[] accounts, BenchOptions options, CancellationToken cancellationToken)
    {
        Log($"cached GetBalance: {options.Concurrency} clients, {options.Warmup.TotalSeconds:0} s warm-up, {options.Duration.TotalSeconds:0} s measured");
        var finance = platform.FinanceAsAdmin();
        GetBalanceRequest Request(string account) => new() { UserId = account, CurrencyCode = BenchOptions.Currency };
        // Every account read once, so each balance is in the cache before the warm-up even starts.
        foreach (var account in accounts)
        {
            await finance.GetBalanceAsync(Request(account), deadline: DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken: cancellationToken);
        }
        var before = await AppMetrics.ScrapeAsync(platform, cancellationToken);
        var result = await ClosedLoop.RunAsync(options.Concurrency, options.Warmup, options.Duration, async token =>
            await finance.GetBalanceAsync(Request(accounts[Random.Shared.Next(accounts.Length)]), deadline: DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken: token),
            _ => null,
            platform.Cpu(),
            token => CompiledMethodsAsync(platform, token),
            cancellationToken);
        var after = await AppMetrics.ScrapeAsync(platform, cancellationToken);
        Log($"cached GetBalance: {result.Succeeded:N0} answered, {result.PerSecond:N0} rps, {result.ErrorCount:N0} errors");
        return (result, AppProfile.Between(before, after, "GetBalance", platform.FinanceSidecar.GrpcPort), AppProfile.BalanceCacheHitRatio(before, after));
    }

    /// <summary>
    /// The floor: Say, a call with no work at its end, with the reads' clients and warm-up, directly to the echo server,
    /// through its own sidecar (dapr-app-id echo: the dev sidecar proxies it through its own internal port, so both
    /// hops in one process), and through the gateway's sidecar and the echo sidecar, as every API call goes. What
    /// separates a cached GetBalance from the last is the app's own work.
    /// </summary>
    private static async Task<FloorResults> FloorAsync(BenchPlatform platform, BenchOptions options, double redisRps, CancellationToken cancellationToken)
    {
        Log("floor: starting the echo server and its dev sidecar");
        var (echo, sidecar) = await platform.StartEchoAsync(cancellationToken);
        using var direct = GrpcChannel.ForAddress($"http://127.0.0.1:{echo.Port}");
        (string, Func<TimeSpan>) server = ("echo server", () => echo.CpuTime), echoSidecar = ("echo sidecar", () => sidecar.CpuTime);
        async Task<LoadResult> SayAsync(string hops, CallInvoker invoker, ProcessCpu cpu)
        {
            Log($"floor, {hops}: {options.Concurrency} clients, {options.Warmup.TotalSeconds:0} s warm-up, {options.Duration.TotalSeconds:0} s measured");
            var client = new Echo.EchoClient(invoker);
            var request = new SayRequest { Text = FloorText };
            // One call first: it connects, and a path that refuses (access control) fails the run here, not as errors.
            await client.SayAsync(request, deadline: DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken: cancellationToken);
            var result = await ClosedLoop.RunAsync(options.Concurrency, options.Warmup, options.Duration, async token =>
                await client.SayAsync(request, deadline: DateTime.UtcNow + ClosedLoop.CallTimeout, cancellationToken: token),
                _ => null,
                cpu,
                echo.CompiledMethodsAsync,
                cancellationToken);
            Log($"floor, {hops}: {result.Succeeded:N0} answered, {result.PerSecond:N0} rps ({result.PerSecond / redisRps:N3} of redis GET), p50 {result.Latency?.P50:N2} ms, {result.ErrorCount:N0} errors");
            return result;
        }
        return new FloorResults(
            await SayAsync("direct", direct.CreateCallInvoker(), new ProcessCpu([server])),
            await SayAsync("own sidecar", platform.InvokerVia(sidecar, EchoServer.AppId, null), new ProcessCpu([echoSidecar, server])),
            await SayAsync("two sidecars", platform.InvokerVia(platform.GatewaySidecar, EchoServer.AppId, null),
                new ProcessCpu([("gateway sidecar", () => platform.GatewaySidecar.CpuTime), echoSidecar, server])));
    }

    /// <summary>Methods the finance app's JIT compiled so far (the runtime's own metric, on its /metrics).</summary>
    private static async Task<double> CompiledMethodsAsync(BenchPlatform platform, CancellationToken cancellationToken) =>
        (await AppMetrics.ScrapeAsync(platform, cancellationToken)).Sum("dotnet_jit_compiled_methods_total");

    internal static string LoadAverage()
    {
        try
        {
            return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    internal static void Log(string message) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
