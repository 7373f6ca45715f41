namespace Ovasabi.Bench;

/// <summary>Latency figures in milliseconds (nearest-rank percentiles over every sample).</summary>
internal sealed record Latency(double Mean, double P50, double P95, double P99, double Max, int Samples)
{
    public static Latency? Of(IReadOnlyCollection<double> milliseconds)
    {
        if (milliseconds.Count == 0)
        {
            return null;
        }
        var sorted = milliseconds.Order().ToArray();
        double Rank(double percentile) => sorted[Math.Max(0, (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1)];
        return new Latency(sorted.Average(), Rank(50), Rank(95), Rank(99), sorted[^1], sorted.Length);
    }
}
