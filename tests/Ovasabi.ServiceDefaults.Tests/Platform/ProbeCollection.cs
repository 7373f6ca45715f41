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
