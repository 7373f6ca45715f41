namespace Ovasabi.DevSidecar.Tests.Infrastructure;

/// <summary>Values tests tag their requests with, and read back from what an app received.</summary>
internal static class Markers
{
    /// <summary><paramref name="stem"/>, a dash and 12 random hex digits: finds one test's requests among all an app received.</summary>
    public static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 13)];

    /// <summary>The trace ID of a W3C traceparent (<c>00-traceid-spanid-flags</c>).</summary>
    public static string TraceIdOf(string traceparent)
    {
        var parts = traceparent.Split('-');
        Assert.True(parts.Length == 4, $"'{traceparent}' is not a W3C traceparent");
        return parts[1];
    }
}
