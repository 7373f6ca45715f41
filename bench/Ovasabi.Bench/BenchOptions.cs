using System.CommandLine;
using Ovasabi.Bench.Notification;
using Ovasabi.Testing;

namespace Ovasabi.Bench;

/// <summary>What one run does; <see cref="Quick"/> shortens every default, and options given explicitly still win.</summary>
internal sealed record BenchOptions(
    int Accounts,
    int Concurrency,
    TimeSpan Warmup,
    TimeSpan Duration,
    int PgbenchScale,
    int? RedisRequests,
    string Output,
    bool Quick,
    bool Profile)
{
    /// <summary>Funding per account: one deposit of the EUR per-transaction maximum (10,000.00), far above what a run moves.</summary>
    public const long FundingMinorUnits = 1_000_000;

    /// <summary>Transfers move 0.01 to 1.00 EUR, so no account runs dry or reaches the daily limit (25,000 EUR sent).</summary>
    public const int MaxTransferMinorUnits = 100;

    public const string Currency = "EUR";
}

/// <summary>The command line of the benchmark.</summary>
internal sealed class BenchCommand
{
    private readonly Option<bool> quick = new("--quick") { Description = "A smoke run of a few seconds per phase (2 s warm-up, 5 s measured, pgbench scale 1)" };
    private readonly Option<int?> accounts = new("--accounts", "-n") { Description = "Accounts (users) transfers move money between (default 20)" };
    private readonly Option<int?> concurrency = new("--concurrency", "-c") { Description = "Concurrent clients in every phase, ours and the raw tools' (default 32)" };
    private readonly Option<int?> warmup = new("--warmup") { Description = "Seconds of warm-up before each measured phase of ours (default 5; quick 2)" };
    private readonly Option<int?> duration = new("--duration", "-d") { Description = "Measured seconds per phase, also pgbench's -T (default 20; quick 5)" };
    private readonly Option<int?> pgbenchScale = new("--pgbench-scale") { Description = "pgbench -s: 10 branches per unit of scale are the rows TPC-B contends on (default 10; quick 1)" };
    private readonly Option<int?> redisRequests = new("--redis-requests") { Description = "redis-benchmark -n (default: sized by a short calibration run to last about --duration)" };
    private readonly Option<bool> profile = new("--profile")
    {
        Description = "Trace every app call (OTLP to the benchmark) and write the spans of the slowest of 5 s of transfers next to the results (<output>.trace.md); the figures then include tracing's cost",
    };
    private readonly Option<string?> output = new("--output", "-o") { Description = "Markdown file for the results (default bench/results.md in the repository)" };

    private readonly Option<bool> notificationQuick = new("--quick") { Description = "A smoke run: 200 events per phase" };
    private readonly Option<int?> users = new("--users") { Description = "Users the events notify (default 50)" };
    private readonly Option<int?> messages = new("--messages", "-m") { Description = "Events (and direct messages) per phase (default 2000; quick 200)" };
    private readonly Option<string> producers = new("--producers", "-p") { Description = "The producer counts, one phase each", DefaultValueFactory = _ => "8,32" };
    private readonly Option<string?> notificationOutput = new("--output", "-o") { Description = "Markdown file for the results (default bench/notification-results.md)" };

    private readonly Option<int> echoPort = new("--port") { Description = "The loopback port to serve gRPC on", Required = true };

    public RootCommand Root { get; }

    /// <summary>The notification benchmark: <c>Ovasabi.Bench notification</c>.</summary>
    public Command Notification { get; }

    /// <summary>The floor phase's echo server, which the finance benchmark starts as a process of its own: <c>Ovasabi.Bench echo-server --port N</c>.</summary>
    public Command EchoServerCommand { get; }

    public BenchCommand()
    {
        Root = new RootCommand("The finance benchmark: transfers and cached balances through the full stack, next to pgbench TPC-B and redis-benchmark GET on the same servers.")
        {
            quick, accounts, concurrency, warmup, duration, pgbenchScale, redisRequests, output, profile,
        };
        Notification = new Command("notification",
            "Deposit events through the platform into in-app items and emails (bindings.smtp to maildev), next to maildev taking the same messages directly.")
        {
            notificationQuick, users, messages, producers, notificationOutput,
        };
        EchoServerCommand = new Command(EchoServer.Command, "Serve ovasabi.testing.v1.Echo on a loopback port (the finance benchmark's floor phase starts it)")
        {
            echoPort,
        };
        EchoServerCommand.Hidden = true;
        Root.Subcommands.Add(Notification);
        Root.Subcommands.Add(EchoServerCommand);
    }

    public BenchOptions Bind(ParseResult parse)
    {
        var isQuick = parse.GetValue(quick);
        var options = new BenchOptions(
            Accounts: parse.GetValue(accounts) ?? 20,
            Concurrency: parse.GetValue(concurrency) ?? 32,
            Warmup: TimeSpan.FromSeconds(parse.GetValue(warmup) ?? (isQuick ? 2 : 5)),
            Duration: TimeSpan.FromSeconds(parse.GetValue(duration) ?? (isQuick ? 5 : 20)),
            PgbenchScale: parse.GetValue(pgbenchScale) ?? (isQuick ? 1 : 10),
            RedisRequests: parse.GetValue(redisRequests),
            Output: Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(RepositoryRoot.Find() ?? ".", "bench", "results.md")),
            Quick: isQuick,
            Profile: parse.GetValue(profile));
        return Validate(options);
    }

    public NotificationBenchOptions BindNotification(ParseResult parse)
    {
        var counts = parse.GetValue(producers)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => int.TryParse(c, out var n) && n is > 0 and <= 256 ? n : throw new ArgumentException("--producers must list counts of 1 to 256, e.g. 8,32")).ToList();
        var options = new NotificationBenchOptions(
            Users: parse.GetValue(users) ?? 50,
            Messages: parse.GetValue(messages) ?? (parse.GetValue(notificationQuick) ? 200 : 2000),
            Producers: counts.Count > 0 ? counts : throw new ArgumentException("--producers must list at least one count"),
            Output: Path.GetFullPath(parse.GetValue(notificationOutput) ?? Path.Combine(RepositoryRoot.Find() ?? ".", "bench", "notification-results.md")));
        return options.Users is < 1 or > 10_000 || options.Messages is < 1 or > 1_000_000
            ? throw new ArgumentException("--users must be 1 to 10,000 and --messages 1 to 1,000,000")
            : options;
    }

    public int BindEchoServer(ParseResult parse) =>
        parse.GetValue(echoPort) is var port and > 0 and <= 65535 ? port : throw new ArgumentException("--port must be 1 to 65535");

    private static BenchOptions Validate(BenchOptions options)
    {
        if (options.Accounts < 2)
        {
            throw new ArgumentException("--accounts must be at least 2: a transfer needs two accounts");
        }
        if (options.Concurrency < 1)
        {
            throw new ArgumentException("--concurrency must be at least 1");
        }
        if (options.Warmup < TimeSpan.Zero || options.Duration < TimeSpan.FromSeconds(1) || options.Duration > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException("--warmup must be 0 or more and --duration between 1 and 600 seconds");
        }
        if (options.PgbenchScale < 1 || options.RedisRequests is < 1)
        {
            throw new ArgumentException("--pgbench-scale and --redis-requests must be positive");
        }
        return options;
    }
}
