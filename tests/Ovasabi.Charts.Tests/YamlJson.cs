using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ovasabi.Charts.Tests;

/// <summary>YAML documents as JSON nodes, plain scalars typed by the YAML 1.2 core schema (as Kubernetes reads them).</summary>
public static partial class YamlJson
{
    public static IReadOnlyList<JsonObject> LoadAll(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents
            .Where(document => document.RootNode is YamlMappingNode)
            .Select(document => (JsonObject)ToJson(document.RootNode)!)
            .ToList();
    }

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value!, ToJson(pair.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new NotSupportedException($"YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return JsonValue.Create(text);
        }
        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when Integer().IsMatch(text) && long.TryParse(text, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
            _ when Float().IsMatch(text) => JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture)),
            _ => JsonValue.Create(text),
        };
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
