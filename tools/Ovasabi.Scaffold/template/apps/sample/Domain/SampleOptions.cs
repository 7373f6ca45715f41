using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Sample.Domain;

/// <summary>The sample service's settings (configuration section <c>Sample</c>), checked at start.</summary>
public sealed class SampleOptions
{
    public const string Section = "Sample";

    /// <summary>The longest item name, in characters (the contract allows 200).</summary>
    public int MaxNameLength { get; set; } = 100;

    public static IEnumerable<string> Problems(SampleOptions o) =>
        Settings.Check(o.MaxNameLength is > 0 and <= 200, $"{Section}:MaxNameLength", "must be between 1 and 200");
}
