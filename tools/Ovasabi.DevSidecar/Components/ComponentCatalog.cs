namespace Ovasabi.DevSidecar.Components;

public enum ComponentKind { State, PubSub, Binding, SecretStore }

/// <summary>The component types this sidecar implements, by daprd type name and version.</summary>
public static class ComponentCatalog
{
    public sealed record Entry(string Type, IReadOnlyList<string> Versions, Func<ComponentDefinition, ComponentContext, IComponent> Create)
    {
        public ComponentKind Kind => KindOf(Type) ?? throw new InvalidOperationException($"no kind for {Type}");
    }

    private static readonly Dictionary<string, Entry> Entries = new Entry[]
    {
        // Implementations register here as they are added, e.g.
        // new("state.redis", ["v1"], (d, c) => new State.RedisStateStore(d, c)),
        new("state.redis", ["v1"], (d, c) => new State.RedisStateStore(d, c)),
        new("state.postgresql", ["v1", "v2"], (d, c) => new State.PostgresStateStore(d, c)),
        new("pubsub.redis", ["v1"], (d, c) => new PubSub.RedisStreamsPubSub(d, c)),
        new("bindings.postgresql", ["v1"], (d, c) => new Bindings.PostgresBinding(d, c)),
        new("bindings.postgres", ["v1"], (d, c) => new Bindings.PostgresBinding(d, c)),
        new("bindings.aws.s3", ["v1"], (d, c) => new Bindings.S3Binding(d, c)),
        new("bindings.localstorage", ["v1"], (d, c) => new Bindings.LocalStorageBinding(d, c)),
        new("bindings.http", ["v1"], (d, c) => new Bindings.HttpBinding(d, c)),
        new("bindings.smtp", ["v1"], (d, c) => new Bindings.SmtpBinding(d, c)),
        new("secretstores.local.file", ["v1"], (d, c) => new Secrets.LocalFileSecretStore(d, c)),
    }.ToDictionary(e => e.Type, StringComparer.Ordinal);

    public static IEnumerable<string> Types => Entries.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string type, out Entry entry) => Entries.TryGetValue(type, out entry!);

    /// <summary>The kind implied by a type's prefix (<c>state.</c>, <c>pubsub.</c>, <c>bindings.</c>, <c>secretstores.</c>).</summary>
    public static ComponentKind? KindOf(string type) => type.Split('.')[0] switch
    {
        "state" => ComponentKind.State,
        "pubsub" => ComponentKind.PubSub,
        "bindings" => ComponentKind.Binding,
        "secretstores" => ComponentKind.SecretStore,
        _ => null,
    };
}
