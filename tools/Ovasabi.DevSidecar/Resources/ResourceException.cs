namespace Ovasabi.DevSidecar.Resources;

/// <summary>A resource or configuration file the sidecar refuses; the message names the file and, where known, the field.</summary>
public sealed class ResourceException(string file, string? field, string problem, Exception? inner = null)
    : Exception(Format(file, field, problem), inner)
{
    public string File { get; } = file;

    public string? Field { get; } = field;

    private static string Format(string file, string? field, string problem) =>
        field is null ? $"{file}: {problem}" : $"{file}: {field}: {problem}";
}
