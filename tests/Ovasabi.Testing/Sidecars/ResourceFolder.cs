using Ovasabi.Testing;

namespace Ovasabi.Testing.Sidecars;

/// <summary>A temporary resources folder for one sidecar (or several sharing it), written the way a developer writes components/.</summary>
public sealed class ResourceFolder() : TempFolder("ovasabi-resources-")
{
    public ResourceFolder Add(string fileName, string yaml)
    {
        File.WriteAllText(PathOf(fileName), yaml);
        return this;
    }

    public ResourceFolder Component(string name, string type, IReadOnlyDictionary<string, string> metadata, IEnumerable<string>? scopes = null, string? extra = null)
    {
        var items = string.Concat(metadata.Select(kv => $"\n  - name: {kv.Key}\n    value: \"{kv.Value}\""));
        var scopeList = scopes is null ? "" : "\nscopes:" + string.Concat(scopes.Select(s => $"\n- {s}"));
        return Add($"{name}.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {name}
            spec:
              type: {type}
              version: v1
              metadata:{items}{extra ?? ""}{scopeList}
            """);
    }

    // Test machines start dozens of sidecars at once on two cores; daprd's 5 s default would time out connecting.
    private const string SlowMachineInitTimeout = "\n  initTimeout: 30s";

    public ResourceFolder RedisState(string name, RedisServer redis, IReadOnlyDictionary<string, string>? metadata = null) =>
        Component(name, "state.redis", With(new() { ["redisHost"] = redis.Endpoint }, metadata), extra: SlowMachineInitTimeout);

    public ResourceFolder PostgresState(string name, string connectionString, IReadOnlyDictionary<string, string>? metadata = null) =>
        Component(name, "state.postgresql", With(new() { ["connectionString"] = connectionString }, metadata), extra: SlowMachineInitTimeout);

    public ResourceFolder RedisPubSub(string name, RedisServer redis, IReadOnlyDictionary<string, string>? metadata = null) =>
        Component(name, "pubsub.redis", With(new() { ["redisHost"] = redis.Endpoint, ["redeliverInterval"] = "1s", ["processingTimeout"] = "10s" }, metadata), extra: SlowMachineInitTimeout);

    private static Dictionary<string, string> With(Dictionary<string, string> defaults, IReadOnlyDictionary<string, string>? extra)
    {
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            defaults[key] = value;
        }
        return defaults;
    }
}
