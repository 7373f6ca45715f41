using Microsoft.Extensions.Logging.Abstractions;
using Ovasabi.DevSidecar.Components;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

/// <summary>Builds component definitions and contexts the way the sidecar's resource loader would.</summary>
internal static class ComponentTestKit
{
    public const string SourceFile = "components/test.yaml";

    public static ComponentDefinition Definition(string type, params (string Name, string Value)[] metadata) =>
        new(
            Name: "test-" + type.Split('.')[^1],
            Type: type,
            Version: "v1",
            Metadata: new ComponentMetadata(metadata.Select(m => KeyValuePair.Create(m.Name, m.Value)), "test-" + type.Split('.')[^1], SourceFile),
            SourceFile: SourceFile,
            Scopes: []);

    public static ComponentContext Context(string? workingDirectory = null) =>
        new("test-app", null, workingDirectory ?? Directory.GetCurrentDirectory(), NullLoggerFactory.Instance, TimeProvider.System);

    public static BindingRequest Request(string operation, byte[]? data = null, params (string Key, string Value)[] metadata) =>
        new(operation, data ?? [], metadata.ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal));

    /// <summary>A directory under the system temp folder, removed on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ovasabi-test-" + Guid.NewGuid().ToString("N"));

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
