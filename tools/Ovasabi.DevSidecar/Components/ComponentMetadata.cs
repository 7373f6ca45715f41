using System.Globalization;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Components;

/// <summary>
/// A component's resolved metadata. Names match case-insensitively, as in daprd; every value is a string.
/// Getters throw <see cref="ComponentConfigurationException"/> naming the component, its file and the field.
/// </summary>
public sealed class ComponentMetadata
{
    private readonly Dictionary<string, string> _values;

    public ComponentMetadata(IEnumerable<KeyValuePair<string, string>> values, string componentName = "", string sourceFile = "")
    {
        _values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in values)
        {
            _values[key] = value;
        }
        ComponentName = componentName;
        SourceFile = sourceFile;
    }

    public string ComponentName { get; }

    public string SourceFile { get; }

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>The first of <paramref name="names"/> (a name and its aliases) that has a non-empty value.</summary>
    public string? Get(params string[] names)
    {
        foreach (var name in names)
        {
            if (_values.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>
    /// The value stored under exactly this spelling, or null: the few settings daprd reads from the raw property map
    /// rather than its case-insensitive decoder (<c>errorIfNot2XX</c> of bindings.http, <c>priority</c> of bindings.smtp).
    /// </summary>
    public string? Exact(string name) =>
        _values.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.Ordinal)).Value;

    public string Required(params string[] names) =>
        Get(names) ?? throw Error(names[0], "required metadata field is missing or empty");

    public string Optional(string name, string defaultValue) => Get(name) ?? defaultValue;

    public int Int(string name, int defaultValue)
    {
        var raw = Get(name);
        if (raw is null)
        {
            return defaultValue;
        }
        return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error(name, $"'{raw}' is not an integer");
    }

    public bool Bool(string name, bool defaultValue)
    {
        var raw = Get(name);
        if (raw is null)
        {
            return defaultValue;
        }
        return raw.Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "y" or "on" => true,
            "false" or "0" or "no" or "n" or "off" => false,
            _ => throw Error(name, $"'{raw}' is not a boolean"),
        };
    }

    /// <summary>A Go duration ("15s", "1m30s") or a plain number of <paramref name="plainUnit"/>.</summary>
    public TimeSpan Duration(string name, TimeSpan defaultValue, TimeSpan? plainUnit = null)
    {
        var raw = Get(name);
        if (raw is null)
        {
            return defaultValue;
        }
        if (plainUnit is { } unit && long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
        {
            return unit * count;
        }
        return GoDuration.TryParse(raw, out var value)
            ? value
            : throw Error(name, $"'{raw}' is not a duration (e.g. 500ms, 15s, 1m)");
    }

    public ComponentConfigurationException Error(string field, string message) =>
        new(ComponentName, SourceFile, field, message);
}

/// <summary>A component definition the sidecar refuses; the message names the file, the component and the field.</summary>
public sealed class ComponentConfigurationException(string component, string sourceFile, string field, string problem)
    : Exception(Format(component, sourceFile, field, problem))
{
    public string Component { get; } = component;

    public string SourceFile { get; } = sourceFile;

    public string Field { get; } = field;

    private static string Format(string component, string file, string field, string problem)
    {
        var where = string.IsNullOrEmpty(file) ? $"component '{component}'" : $"{file}: component '{component}'";
        return string.IsNullOrEmpty(field) ? $"{where}: {problem}" : $"{where}: metadata '{field}': {problem}";
    }
}

/// <summary>Request metadata keys daprd interprets for state requests.</summary>
public static class StateRequestMetadata
{
    public const string TtlKey = "ttlInSeconds";
    public const string ContentTypeKey = "contentType";

    public static int? TtlInSeconds(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(TtlKey, out var raw)
        && int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ttl)
            ? ttl
            : null;
}
