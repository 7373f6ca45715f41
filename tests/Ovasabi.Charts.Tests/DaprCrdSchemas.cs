using System.Text.Json.Nodes;
using NJsonSchema;

namespace Ovasabi.Charts.Tests;

/// <summary>
/// Validates Dapr objects against the openAPIV3 schemas of Dapr's CRDs (DaprCrds/, copied from dapr/dapr's chart).
/// Stricter than an API server, which prunes unknown fields: here an unknown field is an error, so that a misspelt
/// field cannot pass unnoticed.
/// </summary>
public static class DaprCrdSchemas
{
    private static readonly Lazy<IReadOnlyDictionary<(string ApiVersion, string Kind), JsonSchema>> Schemas = new(Load);

    public static IReadOnlyCollection<(string ApiVersion, string Kind)> Known => Schemas.Value.Keys.ToList();

    /// <summary>The problems of one object; empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(JsonObject dapr)
    {
        var key = ((string?)dapr["apiVersion"] ?? "", (string?)dapr["kind"] ?? "");
        if (!Schemas.Value.TryGetValue(key, out var schema))
        {
            return [$"no Dapr CRD defines {key.Item1} {key.Item2} (known: {string.Join(", ", Known)})"];
        }
        return schema.Validate(dapr.ToJsonString()).Select(Describe).ToList();
    }

    private static string Describe(NJsonSchema.Validation.ValidationError error) =>
        error is NJsonSchema.Validation.ChildSchemaValidationError child
            ? $"{error.Path}: {error.Kind} ({string.Join("; ", child.Errors.SelectMany(e => e.Value).Select(Describe))})"
            : $"{error.Path}: {error.Kind}";

    private static IReadOnlyDictionary<(string, string), JsonSchema> Load()
    {
        var schemas = new Dictionary<(string, string), JsonSchema>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "DaprCrds"), "*.yaml"))
        {
            foreach (var crd in YamlJson.LoadAll(File.ReadAllText(file)))
            {
                var spec = crd["spec"]!;
                var (group, kind) = ((string)spec["group"]!, (string)spec["names"]!["kind"]!);
                foreach (var version in spec["versions"]!.AsArray())
                {
                    var openApi = version!["schema"]!["openAPIV3Schema"]!.DeepClone().AsObject();
                    RejectUnknownFields(openApi);
                    schemas[($"{group}/{(string)version["name"]!}", kind)] = JsonSchema.FromJsonAsync(openApi.ToJsonString()).GetAwaiter().GetResult();
                }
            }
        }
        return schemas;
    }

    // An object schema with listed properties allows no others, unless it says it keeps unknown fields.
    private static void RejectUnknownFields(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject schema:
                if (schema.ContainsKey("properties") && !schema.ContainsKey("additionalProperties")
                    && schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() != true)
                {
                    schema["additionalProperties"] = false;
                }
                foreach (var (_, child) in schema.ToList())
                {
                    RejectUnknownFields(child);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    RejectUnknownFields(item);
                }
                break;
        }
    }
}
