namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>
/// The test classes that only use the probe platform (they stop nothing) share one: they run one after another,
/// while the classes with servers of their own run beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProbeCollection : ICollectionFixture<ProbePlatform>
{
    public const string Name = "probe platform";
}

/// <summary>
/// The tests that read the probe's /metrics run alone, on a platform of their own. OpenTelemetry's MeterListener is
/// process-wide: every in-process host's MeterProvider also picks up the library's instruments of the other hosts, and
/// when one of those hosts is disposed its instruments complete and take the shared metric streams down with them.
/// (An app runs one host per process, so this is about hosting several probes in one test process.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection : ICollectionFixture<ProbePlatform>
{
    public const string Name = "probe metrics";
}
