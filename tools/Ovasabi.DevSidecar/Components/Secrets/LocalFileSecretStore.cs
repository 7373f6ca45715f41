using System.Globalization;
using System.Text.Json;

namespace Ovasabi.DevSidecar.Components.Secrets;

/// <summary>
/// <c>secretstores.local.file</c>: secrets from a JSON file read once at start. Nested objects and arrays are
/// flattened into keys joined by <c>nestedSeparator</c> ("db:password", "hosts:0"). With <c>multiValued</c>
/// false every flattened key is a secret holding one entry under its own name; with it true every top-level
/// key is a secret whose entries are its flattened contents.
/// </summary>
internal sealed class LocalFileSecretStore : ISecretStore
{
    private readonly string _path;
    private readonly string _separator;
    private readonly bool _multiValued;
    private readonly ILogger _logger;
    private Dictionary<string, IReadOnlyDictionary<string, string>> _secrets = [];

    public LocalFileSecretStore(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        _path = Path.GetFullPath(Path.Combine(context.WorkingDirectory, metadata.Required("secretsFile")));
        _separator = metadata.Optional("nestedSeparator", ":");
        _multiValued = metadata.Bool("multiValued", false);
        _logger = context.LoggerFactory.CreateLogger<LocalFileSecretStore>();
    }

    /// <summary>
    /// Reads the file. An unreadable or malformed file fails with <see cref="IOException"/> or
    /// <see cref="InvalidDataException"/>, not a configuration error, so <c>ignoreErrors</c> can skip it.
    /// </summary>
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            await using var file = File.OpenRead(_path);
            document = await JsonDocument.ParseAsync(file, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read secretsFile {_path}: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"secretsFile {_path} is not valid JSON: {ex.Message}", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"secretsFile {_path} must hold a JSON object");
            }
            _secrets = _multiValued ? ReadMultiValued(document.RootElement) : ReadSingleValued(document.RootElement);
        }
    }

    public Task<IReadOnlyDictionary<string, string>?> GetSecretAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(_secrets.GetValueOrDefault(name));

    public Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetBulkSecretAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>(_secrets);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Dictionary<string, IReadOnlyDictionary<string, string>> ReadSingleValued(JsonElement root)
    {
        var secrets = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (key, value) in Flatten(root))
        {
            secrets[key] = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = value };
        }
        return secrets;
    }

    /// <summary>Top-level strings are one-entry secrets, top-level objects are flattened; daprd skips any other top-level value.</summary>
    private Dictionary<string, IReadOnlyDictionary<string, string>> ReadMultiValued(JsonElement root)
    {
        var secrets = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    secrets[property.Name] = new Dictionary<string, string>(StringComparer.Ordinal) { [property.Name] = property.Value.GetString()! };
                    break;
                case JsonValueKind.Object:
                    secrets[property.Name] = Flatten(property.Value);
                    break;
                default:
                    _logger.LogWarning(
                        "{File}: top-level '{Key}' is a JSON {Kind}; with multiValued only strings and objects are secrets, so it is skipped",
                        _path, property.Name, property.Value.ValueKind.ToString().ToLowerInvariant());
                    break;
            }
        }
        return secrets;
    }

    /// <summary>Every leaf of <paramref name="element"/> under its path of keys and array indexes.</summary>
    private Dictionary<string, string> Flatten(JsonElement element)
    {
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        Visit(element, prefix: null, leaves);
        return leaves;
    }

    private void Visit(JsonElement element, string? prefix, Dictionary<string, string> leaves)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Visit(property.Value, Child(prefix, property.Name), leaves);
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Visit(item, Child(prefix, (index++).ToString(CultureInfo.InvariantCulture)), leaves);
                }
                break;
            default:
                // Flattening "a:b" next to {"a": {"b": ...}} would give one key two values.
                if (!leaves.TryAdd(prefix!, Text(element)))
                {
                    throw new InvalidDataException($"secretsFile {_path}: the key '{prefix}' occurs twice after flattening with '{_separator}'");
                }
                break;
        }
    }

    private string Child(string? prefix, string name) => prefix is null ? name : prefix + _separator + name;

    /// <summary>A leaf's text: strings as they are, numbers and booleans as written in the file, null as empty.</summary>
    private static string Text(JsonElement leaf) => leaf.ValueKind switch
    {
        JsonValueKind.String => leaf.GetString()!,
        JsonValueKind.Null => "",
        _ => leaf.GetRawText(),
    };
}
