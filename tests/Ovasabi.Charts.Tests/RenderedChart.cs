using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace Ovasabi.Charts.Tests;

/// <summary>One rendered object: its JSON form, and for Kubernetes' own kinds the strictly parsed model.</summary>
public sealed record RenderedObject(string ApiVersion, string Kind, string Name, JsonObject Json, object? Model)
{
    public bool IsDapr => ApiVersion.StartsWith("dapr.io/", StringComparison.Ordinal);

    public override string ToString() => $"{Kind}/{Name}";
}

/// <summary>The output of `helm template`, split per object and parsed strictly.</summary>
public sealed partial class RenderedChart(IReadOnlyList<RenderedObject> objects)
{
    public IReadOnlyList<RenderedObject> Objects => objects;

    public static RenderedChart Parse(string yaml)
    {
        var objects = new List<RenderedObject>();
        foreach (var document in DocumentSeparator().Split(yaml).Where(d => !string.IsNullOrWhiteSpace(d)))
        {
            foreach (var json in YamlJson.LoadAll(document))
            {
                var apiVersion = (string?)json["apiVersion"] ?? throw new InvalidDataException($"an object without apiVersion:\n{document}");
                var kind = (string?)json["kind"] ?? throw new InvalidDataException($"an object without kind:\n{document}");
                var name = (string?)json["metadata"]?["name"] ?? throw new InvalidDataException($"{kind} without metadata.name");
                objects.Add(new RenderedObject(apiVersion, kind, name, json, IsKubernetesKind(apiVersion) ? ParseStrictly(document, kind, name) : null));
            }
        }
        return new RenderedChart(objects);
    }

    public IEnumerable<RenderedObject> OfKind(string kind) => objects.Where(o => o.Kind == kind);

    public IEnumerable<T> Models<T>() => objects.Select(o => o.Model).OfType<T>();

    public RenderedObject Single(string kind, string name) =>
        objects.SingleOrDefault(o => o.Kind == kind && o.Name == name) ?? throw new InvalidOperationException($"no {kind}/{name} in: {string.Join(", ", objects)}");

    public IReadOnlyList<V1Deployment> Deployments => Models<V1Deployment>().ToList();

    /// <summary>Kubernetes' own API groups (KubernetesClient has models for them); CRD kinds are checked elsewhere.</summary>
    private static bool IsKubernetesKind(string apiVersion) =>
        !apiVersion.Contains('/', StringComparison.Ordinal) || apiVersion.Split('/')[0] is "apps" or "batch" or "policy" or "autoscaling"
            or "networking.k8s.io" or "rbac.authorization.k8s.io";

    // Unknown fields throw with strict: a misspelt field would otherwise be dropped without a word.
    private static object ParseStrictly(string document, string kind, string name)
    {
        try
        {
            return KubernetesYaml.LoadAllFromString(document, strict: true).Single();
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{kind}/{name} does not parse strictly as a Kubernetes object: {e.Message}", e);
        }
    }

    [GeneratedRegex(@"^---\s*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}
