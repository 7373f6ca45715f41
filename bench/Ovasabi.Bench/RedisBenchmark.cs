using System.Globalization;
using Ovasabi.Testing;
using StackExchange.Redis;

namespace Ovasabi.Bench;

/// <summary>redis-benchmark's GET figures (its CSV: rps and latency percentiles in ms).</summary>
internal sealed record RedisBenchmarkResult(double Rps, long Requests, int ValueBytes, Latency Latency);

/// <summary>
/// redis-benchmark GET on the platform's own Redis server: the read a cached GetBalance ends in, without anything in
/// front of it. The key holds a value as large as a cached balance, so both read the same bytes.
/// </summary>
internal static class RedisBenchmark
{
    // redis-benchmark's GET test reads this key literally (no -r).
    private const string Key = "key:__rand_int__";

    private const int CalibrationRequests = 20_000;

    public static async Task<RedisBenchmarkResult> RunAsync(RedisServer server, int stateDatabase, int clients, int? requests, TimeSpan duration, CancellationToken cancellationToken)
    {
        var tool = Tools.OnPath("redis-benchmark");
        var valueBytes = await StoreValueLikeABalanceAsync(server, stateDatabase);
        async Task<RedisBenchmarkResult> Run(long n) => Parse(
            await ManagedProcess.RunAsync(
                new ProcessCommand(tool, ["-h", server.Host, "-p", Text(server.Port), "-c", Text(clients), "-n", Text(n), "-t", "get", "--csv"]),
                duration * 3 + TimeSpan.FromMinutes(1),
                cancellationToken),
            n,
            valueBytes);

        // Without a request count, a short run tells the rate, and the measured run is sized to last about `duration`.
        var count = requests ?? (long)Math.Clamp((await Run(CalibrationRequests)).Rps * duration.TotalSeconds, CalibrationRequests, 20_000_000);
        return await Run(count);
    }

    /// <summary>
    /// Sets the benchmark's key (in database 0, which redis-benchmark reads) to as many bytes as a cached balance holds
    /// in the platform's state database; returns that size.
    /// </summary>
    private static async Task<int> StoreValueLikeABalanceAsync(RedisServer server, int stateDatabase)
    {
        await using var redis = await server.ConnectAsync();
        var endpoint = redis.GetServer(redis.GetEndPoints()[0]);
        var state = redis.GetDatabase(stateDatabase);
        var size = 0;
        // The dev sidecar keeps a state entry as a hash whose "data" field is the value the app stored.
        await foreach (var key in endpoint.KeysAsync(stateDatabase, pattern: "*finance:balance:*", pageSize: 100))
        {
            size = (int)(await state.HashStringLengthAsync(key, "data"));
            break;
        }
        if (size == 0)
        {
            throw new InvalidOperationException($"no cached balance in Redis database {stateDatabase} to size the GET's value by");
        }
        await redis.GetDatabase().StringSetAsync(Key, new string('x', size));
        return size;
    }

    private static RedisBenchmarkResult Parse(string csv, long requests, int valueBytes)
    {
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines.FirstOrDefault(l => l.StartsWith("\"test\"", StringComparison.Ordinal))?.Split(',').Select(f => f.Trim('"')).ToList();
        var get = lines.FirstOrDefault(l => l.StartsWith("\"GET\"", StringComparison.Ordinal))?.Split(',').Select(f => f.Trim('"')).ToList();
        if (header is null || get is null || get.Count != header.Count)
        {
            throw new InvalidOperationException($"redis-benchmark printed no GET line in CSV:\n{csv}");
        }
        double Field(string name) => header.IndexOf(name) is var i and >= 0
            ? double.Parse(get[i], CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"redis-benchmark's CSV has no '{name}' column (older than 7.0?):\n{csv}");
        return new RedisBenchmarkResult(
            Field("rps"),
            requests,
            valueBytes,
            new Latency(Field("avg_latency_ms"), Field("p50_latency_ms"), Field("p95_latency_ms"), Field("p99_latency_ms"), Field("max_latency_ms"), (int)Math.Min(requests, int.MaxValue)));
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
