using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Components;

public sealed record LoadedComponent(ComponentDefinition Definition, IComponent Instance, ComponentKind Kind)
{
    public string Name => Definition.Name;
}

/// <summary>The sidecar's initialised components by name. Secret stores are built first so others can reference them.</summary>
public sealed class ComponentRegistry : IAsyncDisposable
{
    private static readonly TimeSpan DefaultInitTimeout = TimeSpan.FromSeconds(5);

    // envRef may not read these (daprd refuses them so components cannot exfiltrate the sidecar's tokens).
    private static readonly string[] ForbiddenEnvRefs = ["APP_API_TOKEN"];

    private readonly Dictionary<string, LoadedComponent> _components = new(StringComparer.Ordinal);

    public IEnumerable<LoadedComponent> All => _components.Values;

    public bool TryGet(string name, ComponentKind kind, out LoadedComponent component) =>
        _components.TryGetValue(name, out component!) && component.Kind == kind;

    public IEnumerable<LoadedComponent> OfKind(ComponentKind kind) => _components.Values.Where(c => c.Kind == kind);

    public static async Task<ComponentRegistry> CreateAsync(
        IReadOnlyList<Loaded<ComponentResource>> resources, ComponentContext context, CancellationToken cancellationToken)
    {
        var logger = context.LoggerFactory.CreateLogger<ComponentRegistry>();
        var registry = new ComponentRegistry();
        try
        {
            var ordered = resources
                .Select(r => (Resource: r, Entry: Entry(r)))
                .OrderBy(x => x.Entry.Kind == ComponentKind.SecretStore ? 0 : 1)
                .ToList();
            foreach (var (resource, entry) in ordered)
            {
                var metadata = await registry.ResolveMetadataAsync(resource, cancellationToken);
                var spec = resource.Resource.Spec!;
                var definition = new ComponentDefinition(
                    resource.Name, entry.Type, Version(resource, entry), metadata, resource.File,
                    resource.Resource.Scopes ?? [], spec.IgnoreErrors ?? false, InitTimeout(resource));
                var instance = entry.Create(definition, context);
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(definition.InitTimeout ?? DefaultInitTimeout);
                    await instance.InitAsync(timeout.Token);
                }
                catch (Exception e) when (e is ComponentConfigurationException || cancellationToken.IsCancellationRequested)
                {
                    await instance.DisposeAsync();
                    throw;
                }
                catch (Exception e)
                {
                    await instance.DisposeAsync();
                    // Say how long it waited and which field sets that, as daprd's "init timeout ... exceeded after 5s" does.
                    var reason = e is OperationCanceledException
                        ? $"init timed out after {GoDuration.Format(definition.InitTimeout ?? DefaultInitTimeout)} (spec.initTimeout)"
                        : e.Message;
                    if (definition.IgnoreErrors)
                    {
                        logger.LogWarning("Component {Name} ({Type}) failed to initialise and is ignored (ignoreErrors): {Reason}",
                            definition.Name, definition.Type, reason);
                        continue;
                    }
                    throw new ResourceException(resource.File, null,
                        $"component '{definition.Name}' ({definition.Type}) failed to initialise: {reason}", e);
                }
                registry._components[definition.Name] = new LoadedComponent(definition, instance, entry.Kind);
                logger.LogInformation("Component loaded: {Name} ({Type}/{Version})", definition.Name, definition.Type, definition.Version);
            }
            return registry;
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    private static ComponentCatalog.Entry Entry(Loaded<ComponentResource> resource)
    {
        var type = resource.Resource.Spec?.Type;
        if (string.IsNullOrWhiteSpace(type))
        {
            throw new ResourceException(resource.File, "spec.type", $"component '{resource.Name}' has no type");
        }
        if (!ComponentCatalog.TryGet(type, out var entry))
        {
            throw new ResourceException(resource.File, "spec.type",
                $"component '{resource.Name}': unknown or unsupported component type '{type}' (this sidecar implements {string.Join(", ", ComponentCatalog.Types)})");
        }
        return entry;
    }

    private static string Version(Loaded<ComponentResource> resource, ComponentCatalog.Entry entry)
    {
        var version = resource.Resource.Spec?.Version;
        if (string.IsNullOrWhiteSpace(version))
        {
            return entry.Versions[0];
        }
        return entry.Versions.Contains(version)
            ? version
            : throw new ResourceException(resource.File, "spec.version",
                $"component '{resource.Name}': version '{version}' of {entry.Type} is not supported (supported: {string.Join(", ", entry.Versions)})");
    }

    private static TimeSpan? InitTimeout(Loaded<ComponentResource> resource)
    {
        var raw = resource.Resource.Spec?.InitTimeout;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        return GoDuration.TryParse(raw, out var value) && value > TimeSpan.Zero
            ? value
            : throw new ResourceException(resource.File, "spec.initTimeout", $"component '{resource.Name}': '{raw}' is not a positive duration");
    }

    private async Task<ComponentMetadata> ResolveMetadataAsync(Loaded<ComponentResource> resource, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var items = resource.Resource.Spec?.Metadata ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var field = $"spec.metadata[{i}]";
            if (string.IsNullOrWhiteSpace(item.Name))
            {
                throw new ResourceException(resource.File, field + ".name", $"component '{resource.Name}': metadata item without a name");
            }
            values[item.Name] = item switch
            {
                { SecretKeyRef: { } secretRef } => await SecretAsync(resource, item.Name, secretRef, cancellationToken),
                { EnvRef: { Length: > 0 } variable } => EnvironmentValue(resource, item.Name, variable),
                _ => item.Value ?? "",
            };
        }
        return new ComponentMetadata(values, resource.Name, resource.File);
    }

    private static string EnvironmentValue(Loaded<ComponentResource> resource, string field, string variable)
    {
        if (ForbiddenEnvRefs.Contains(variable, StringComparer.Ordinal)
            || variable.StartsWith("DAPR_", StringComparison.Ordinal)
            || variable.Any(char.IsWhiteSpace))
        {
            throw new ResourceException(resource.File, $"metadata '{field}'.envRef",
                $"component '{resource.Name}': environment variable '{variable}' may not be referenced");
        }
        return Environment.GetEnvironmentVariable(variable) ?? "";
    }

    private async Task<string> SecretAsync(Loaded<ComponentResource> resource, string field, SecretKeyRefModel secretRef, CancellationToken cancellationToken)
    {
        var where = $"metadata '{field}'.secretKeyRef";
        var storeName = resource.Resource.Auth?.SecretStore;
        if (string.IsNullOrWhiteSpace(storeName))
        {
            throw new ResourceException(resource.File, where,
                $"component '{resource.Name}': secretKeyRef needs auth.secretStore naming a secret store component");
        }
        if (!TryGet(storeName, ComponentKind.SecretStore, out var store))
        {
            throw new ResourceException(resource.File, "auth.secretStore",
                $"component '{resource.Name}': secret store '{storeName}' is not defined (or not loaded)");
        }
        if (string.IsNullOrWhiteSpace(secretRef.Name))
        {
            throw new ResourceException(resource.File, where + ".name", $"component '{resource.Name}': secretKeyRef needs a name");
        }
        var secret = await ((ISecretStore)store.Instance).GetSecretAsync(secretRef.Name, cancellationToken);
        var key = string.IsNullOrEmpty(secretRef.Key) ? secretRef.Name : secretRef.Key;
        if (secret is null || !secret.TryGetValue(key, out var value))
        {
            throw new ResourceException(resource.File, where,
                $"component '{resource.Name}': secret '{secretRef.Name}' (key '{key}') not found in secret store '{storeName}'");
        }
        return value;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var component in _components.Values.Reverse())
        {
            await component.Instance.DisposeAsync();
        }
        _components.Clear();
    }
}
