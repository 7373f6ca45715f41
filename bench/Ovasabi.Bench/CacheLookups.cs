using System.Globalization;
using Ovasabi.Testing.Sidecars;

namespace Ovasabi.Bench;

/// <summary>
/// The finance app's balance-cache lookups by result (hit, miss, bypass, error), read from its Prometheus endpoint, so
/// the report can show that the GetBalance phase really read the cache.
/// </summary>
internal sealed record CacheLookups(IReadOnlyDictionary<string, double> ByResult)
{
    public static async Task<CacheLookups> ReadAsync(AppProcess finance, CancellationToken cancellationToken)
    {
        var text = await finance.Management.GetStringAsync("/metrics", cancellationToken);
        var counts = new Dictionary<string, double>();
        // e.g. ovasabi_cache_lookups_total{entity="balance",result="hit",service="finance",...} 123
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("ovasabi_cache_lookups_total{", StringComparison.Ordinal) && l.Contains("entity=\"balance\"", StringComparison.Ordinal)))
        {
            var labels = line[(line.IndexOf('{') + 1)..line.LastIndexOf('}')];
            var result = labels.Split(',').Select(l => l.Split('=', 2)).FirstOrDefault(kv => kv[0] == "result")?[1].Trim('"');
            if (result is not null && double.TryParse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture, out var value))
            {
                counts[result] = counts.GetValueOrDefault(result) + value;
            }
        }
        return new CacheLookups(counts);
    }

    /// <summary>The share of lookups since <paramref name="before"/> that were hits; null when there were none.</summary>
    public double? HitRatioSince(CacheLookups before)
    {
        var delta = ByResult.ToDictionary(kv => kv.Key, kv => kv.Value - before.ByResult.GetValueOrDefault(kv.Key));
        var total = delta.Values.Sum();
        return total > 0 ? delta.GetValueOrDefault("hit") / total : null;
    }
}
