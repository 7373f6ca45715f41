using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Ovasabi.Testing;

namespace Ovasabi.Bench;

/// <summary>pgbench's figures: its own tps and latency average, and percentiles from its per-transaction log.</summary>
internal sealed record PgBenchResult(double Tps, double? LatencyAverage, long Transactions, long Failed, Latency? Latency);

/// <summary>
/// pgbench's built-in TPC-B script on the platform's own PostgreSQL server, in a fresh database: the database a
/// transfer ends in, without anything in front of it.
/// </summary>
internal static partial class PgBench
{
    public static async Task<PgBenchResult> RunAsync(PostgresServer server, int clients, int scale, TimeSpan duration, CancellationToken cancellationToken)
    {
        var pgbench = await LocateAsync(cancellationToken);
        var database = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync("pgbench", cancellationToken));
        var scratch = Directory.CreateTempSubdirectory("ovasabi-bench-pgbench-");
        try
        {
            string[] connection = ["-h", database.Host!, "-p", Text(database.Port), "-U", database.Username!];
            var environment = new Dictionary<string, string?> { ["PGPASSWORD"] = database.Password };
            ProcessCommand Command(params string[] arguments) => new(pgbench, [.. arguments, .. connection, database.Database!])
            {
                WorkingDirectory = scratch.FullName,
                Environment = environment,
            };

            await ManagedProcess.RunAsync(Command("-i", "-q", "-s", Text(scale)), TimeSpan.FromMinutes(5), cancellationToken);
            var output = await ManagedProcess.RunAsync(
                Command(
                    "-c", Text(clients), "-j", Text(Math.Min(2, clients)), "-T", Text((int)duration.TotalSeconds), "-M", "prepared",
                    "-l", $"--log-prefix={Path.Combine(scratch.FullName, "txn")}"),
                duration + TimeSpan.FromMinutes(2),
                cancellationToken);
            return Parse(output, LoggedLatencies(scratch));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>pgbench of the server's own version (`pg_config --bindir`, as the fixture finds initdb), else PATH's.</summary>
    private static async Task<string> LocateAsync(CancellationToken cancellationToken)
    {
        try
        {
            var bin = (await ManagedProcess.RunAsync(new ProcessCommand("pg_config", ["--bindir"]), TimeSpan.FromSeconds(10), cancellationToken)).Trim();
            if (File.Exists(Path.Combine(bin, "pgbench")))
            {
                return Path.Combine(bin, "pgbench");
            }
        }
        catch (InvalidOperationException)
        {
            // No pg_config; Debian's /usr/bin/pgbench wrapper picks the newest installed version.
        }
        return Tools.OnPath("pgbench");
    }

    private static PgBenchResult Parse(string output, Latency? latency)
    {
        double? Number(Regex pattern) => pattern.Match(output) is { Success: true } match ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
        var processed = Number(ProcessedPattern()) ?? throw new InvalidOperationException($"pgbench printed no transaction count:\n{output}");
        // With no transaction processed (a machine too busy to finish one in time) pgbench prints neither tps nor latency.
        return new PgBenchResult(Number(TpsPattern()) ?? 0, Number(LatencyPattern()), (long)processed, (long)(Number(FailedPattern()) ?? 0), latency);
    }

    // Each log line: client_id transaction_no time script_no time_epoch time_us, where time is the latency in µs.
    private static Latency? LoggedLatencies(DirectoryInfo scratch) => Latency.Of(scratch.EnumerateFiles("txn.*")
        .SelectMany(file => File.ReadLines(file.FullName))
        .Select(line => line.Split(' '))
        .Where(fields => fields.Length >= 3)
        .Select(fields => double.Parse(fields[2], CultureInfo.InvariantCulture) / 1000)
        .ToList());

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^tps = ([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex TpsPattern();

    [GeneratedRegex(@"^latency average = ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex LatencyPattern();

    [GeneratedRegex(@"^number of transactions actually processed: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex ProcessedPattern();

    [GeneratedRegex(@"^number of failed transactions: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex FailedPattern();
}

/// <summary>Finding the raw tools.</summary>
internal static class Tools
{
    public static string OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists)
        ?? throw new ToolNotFoundException(name);
}
