namespace Ovasabi.DevSidecar.Resources;

public sealed record Loaded<T>(T Resource, string File) where T : ResourceHeader
{
    public string Name => Resource.Metadata?.Name ?? "";
}

/// <summary>
/// The Dapr resources (Components, Subscriptions, Resiliency) of the sidecar's resources folders that apply to its app ID,
/// read as daprd's disk loader reads them.
/// </summary>
public sealed class ResourceSet
{
    private const string V1Alpha1 = "dapr.io/v1alpha1";
    private const string V2Alpha1 = "dapr.io/v2alpha1";

    public required IReadOnlyList<Loaded<ComponentResource>> Components { get; init; }

    public required IReadOnlyList<Loaded<SubscriptionResource>> Subscriptions { get; init; }

    public required IReadOnlyList<Loaded<ResiliencyResource>> Resiliencies { get; init; }

    public static ResourceSet Load(IEnumerable<string> paths, string appId, string? @namespace, ILogger logger)
    {
        var components = new List<Loaded<ComponentResource>>();
        var subscriptions = new List<Loaded<SubscriptionResource>>();
        var resiliencies = new List<Loaded<ResiliencyResource>>();
        foreach (var path in paths)
        {
            if (!Directory.Exists(path))
            {
                throw new ResourceException(path, null, "resources path does not exist or is not a directory");
            }
            foreach (var file in YamlDocuments.FilesIn(path))
            {
                foreach (var document in YamlDocuments.Split(file, File.ReadAllText(file)))
                {
                    var header = document.Read<ResourceHeader>();
                    switch (header.ApiVersion, header.Kind)
                    {
                        case (V1Alpha1, "Component"):
                            components.Add(new(document.Read<ComponentResource>(), file));
                            break;
                        case (V1Alpha1 or V2Alpha1, "Subscription"):
                            subscriptions.Add(new(document.Read<SubscriptionResource>(), file));
                            break;
                        case (V1Alpha1, "Resiliency"):
                            resiliencies.Add(new(document.Read<ResiliencyResource>(), file));
                            break;
                        default:
                            logger.LogDebug("Skipping {Kind} ({ApiVersion}) in {File}", header.Kind, header.ApiVersion, file);
                            break;
                    }
                }
            }
        }

        RequireNames(components, "Component");
        RequireNames(subscriptions, "Subscription");
        RequireNames(resiliencies, "Resiliency");
        return new ResourceSet
        {
            Components = Applicable(components, c => c.Scopes, appId, @namespace),
            Subscriptions = Applicable(subscriptions, s => s.Scopes, appId, @namespace),
            Resiliencies = Applicable(resiliencies, r => r.Scopes, appId, @namespace),
        };
    }

    /// <summary>Every resource needs a name, unique within its kind; checked before scope filtering, as daprd does.</summary>
    private static void RequireNames<T>(List<Loaded<T>> resources, string kind) where T : ResourceHeader
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (string.IsNullOrWhiteSpace(resource.Name))
            {
                throw new ResourceException(resource.File, "metadata.name", $"a {kind} needs a name");
            }
            if (!seen.TryAdd(resource.Name, resource.File))
            {
                throw new ResourceException(resource.File, "metadata.name",
                    $"duplicate definition of {kind} name {resource.Name} (also in {seen[resource.Name]})");
            }
        }
    }

    private static List<Loaded<T>> Applicable<T>(List<Loaded<T>> resources, Func<T, List<string>?> scopes, string appId, string? @namespace)
        where T : ResourceHeader =>
        resources
            .Where(r => scopes(r.Resource) is not { Count: > 0 } s || s.Contains(appId, StringComparer.Ordinal))
            .Where(r => string.IsNullOrEmpty(@namespace) || string.IsNullOrEmpty(r.Resource.Metadata?.Namespace) || r.Resource.Metadata.Namespace == @namespace)
            .ToList();
}
