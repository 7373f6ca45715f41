using System.Globalization;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>Reads samples out of Prometheus text exposition.</summary>
public static class Prometheus
{
    /// <summary>The sum of the samples of <paramref name="name"/> (exact series name) whose labels include all of <paramref name="labels"/>.</summary>
    public static double Sum(string text, string name, params (string Name, string Value)[] labels) =>
        Samples(text, name).Where(s => labels.All(l => s.Labels.Contains($"{l.Name}=\"{l.Value}\"", StringComparison.Ordinal))).Sum(s => s.Value);

    /// <summary>The label sets of <paramref name="name"/>'s samples.</summary>
    public static IEnumerable<(string Labels, double Value)> Samples(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal))
            {
                continue;
            }
            var close = line.IndexOf('}', StringComparison.Ordinal);
            var value = line[(close + 1)..].Trim().Split(' ')[0];
            yield return (line[(name.Length + 1)..close], double.Parse(value, CultureInfo.InvariantCulture));
        }
    }
}
