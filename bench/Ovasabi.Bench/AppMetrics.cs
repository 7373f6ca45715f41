using System.Globalization;
using System.Text;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Bench;

/// <summary>One scrape of the finance app's Prometheus endpoint: every sample, by metric name and labels.</summary>
internal sealed class AppMetrics
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> samples;

    private AppMetrics(List<(string, Dictionary<string, string>, double)> samples) => this.samples = samples;

    public static async Task<AppMetrics> ScrapeAsync(FinancePlatform platform, CancellationToken cancellationToken)
    {
        var text = await platform.FinanceApp.Management.GetStringAsync("/metrics", cancellationToken);
        var samples = new List<(string, Dictionary<string, string>, double)>();
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var labelsStart = line.IndexOf('{');
            var labelsEnd = line.LastIndexOf('}');
            var name = labelsStart < 0 ? line[..line.IndexOf(' ')] : line[..labelsStart];
            var labels = labelsStart < 0 ? [] : Labels(line[(labelsStart + 1)..labelsEnd]);
            var value = line[(labelsStart < 0 ? name.Length : labelsEnd + 1)..].Trim().Split(' ')[0];
            if (double.TryParse(value, CultureInfo.InvariantCulture, out var number))
            {
                samples.Add((name, labels, number));
            }
        }
        return new AppMetrics(samples);
    }

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels satisfy <paramref name="where"/>.</summary>
    public double Sum(string name, Func<IReadOnlyDictionary<string, string>, bool>? where = null) =>
        samples.Where(s => s.Name == name && (where is null || where(s.Labels))).Sum(s => s.Value);

    // key="value",... where values may hold commas, '=' and escaped quotes (e.g. Npgsql's pool name).
    private static Dictionary<string, string> Labels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < text.Length)
        {
            var equals = text.IndexOf('=', i);
            var key = text[i..equals].Trim(',', ' ');
            var value = new StringBuilder();
            for (i = equals + 2; i < text.Length && text[i] != '"'; i++)
            {
                value.Append(text[i] == '\\' && i + 1 < text.Length ? text[++i] : text[i]);
            }
            labels[key] = value.ToString();
            i++;
        }
        return labels;
    }
}

/// <summary>
/// Where the finance app spent a phase, per call of one RPC, from its own metrics before and after: time inside the
/// app, calls to its sidecar (user checks, cache, publishing) and PostgreSQL operations. Those overlap; they show where
/// the time goes, not a sum.
/// </summary>
internal sealed record AppProfile(string Method, double Calls, double AppMs, double SidecarCalls, double SidecarMs, double DatabaseOperations, double DatabaseMs)
{
    public static AppProfile Between(AppMetrics before, AppMetrics after, string method, int sidecarGrpcPort)
    {
        double Delta(string name, Func<IReadOnlyDictionary<string, string>, bool>? where = null) => after.Sum(name, where) - before.Sum(name, where);
        bool Method(IReadOnlyDictionary<string, string> l) => l.GetValueOrDefault("rpc_method") == method;
        var port = sidecarGrpcPort.ToString(CultureInfo.InvariantCulture);
        bool Sidecar(IReadOnlyDictionary<string, string> l) => l.GetValueOrDefault("server_port") == port;
        var calls = Delta("rpc_server_duration_milliseconds_count", Method);
        var sidecarCalls = Delta("http_client_request_duration_seconds_count", Sidecar);
        var databaseOperations = Delta("db_client_operation_duration_seconds_count");
        return new AppProfile(
            method,
            calls,
            Mean(Delta("rpc_server_duration_milliseconds_sum", Method), calls),
            calls > 0 ? sidecarCalls / calls : 0,
            Mean(Delta("http_client_request_duration_seconds_sum", Sidecar) * 1000, sidecarCalls),
            calls > 0 ? databaseOperations / calls : 0,
            Mean(Delta("db_client_operation_duration_seconds_sum") * 1000, databaseOperations));
    }

    /// <summary>The share of balance-cache lookups between the two scrapes that were hits; null when there were none.</summary>
    public static double? BalanceCacheHitRatio(AppMetrics before, AppMetrics after)
    {
        static bool Balance(IReadOnlyDictionary<string, string> l) => l.GetValueOrDefault("entity") == "balance";
        var all = after.Sum("ovasabi_cache_lookups_total", Balance) - before.Sum("ovasabi_cache_lookups_total", Balance);
        bool Hit(IReadOnlyDictionary<string, string> l) => Balance(l) && l.GetValueOrDefault("result") == "hit";
        return all > 0 ? (after.Sum("ovasabi_cache_lookups_total", Hit) - before.Sum("ovasabi_cache_lookups_total", Hit)) / all : null;
    }

    private static double Mean(double sum, double count) => count > 0 ? sum / count : 0;
}
