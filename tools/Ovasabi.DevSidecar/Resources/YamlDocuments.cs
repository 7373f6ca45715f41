using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Ovasabi.DevSidecar.Resources;

/// <summary>One YAML document of a file, with where it starts so errors can point at the right line.</summary>
public sealed record YamlDocument(string File, int FirstLine, string Text)
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    /// <summary>Deserializes the document; a YAML error becomes a <see cref="ResourceException"/> with the file's line.</summary>
    public T Read<T>() where T : class
    {
        try
        {
            return Deserializer.Deserialize<T?>(Text) ?? throw new ResourceException(File, null, $"line {FirstLine}: empty document");
        }
        catch (YamlException e)
        {
            var line = FirstLine + (int)e.Start.Line - 1;
            var reason = e.InnerException?.Message ?? e.Message;
            // YamlDotNet places a tab-as-indentation error at the start of the enclosing mapping (often line 1);
            // point at the first line indented with a tab instead, which is what the user has to fix.
            if (reason.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstTabIndentedLine() is { } tabLine)
            {
                line = FirstLine + tabLine;
            }
            throw new ResourceException(File, null, $"line {line}: malformed YAML: {Clean(reason)}", e);
        }
    }

    private int? FirstTabIndentedLine()
    {
        var lines = Text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TakeWhile(c => c is ' ' or '\t').Contains('\t'))
            {
                return i;
            }
        }
        return null;
    }

    private static string Clean(string message) =>
        Regex.Replace(message, @"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", "");
}

public static partial class YamlDocuments
{
    [GeneratedRegex(@"^---\s*(#.*)?$")]
    private static partial Regex Separator();

    [GeneratedRegex(@"^\s*(#.*)?$")]
    private static partial Regex Blank();

    /// <summary>Splits a multi-document YAML file on <c>---</c> lines, as daprd does, skipping empty documents.</summary>
    public static IEnumerable<YamlDocument> Split(string file, string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var start = 0;
        for (var i = 0; i <= lines.Length; i++)
        {
            if (i < lines.Length && !Separator().IsMatch(lines[i]))
            {
                continue;
            }
            var chunk = lines[start..i];
            if (chunk.Any(l => !Blank().IsMatch(l)))
            {
                yield return new YamlDocument(file, start + 1, string.Join('\n', chunk));
            }
            start = i + 1;
        }
    }

    /// <summary>The YAML files directly inside a resources folder (no recursion), in name order.</summary>
    public static IEnumerable<string> FilesIn(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory)
                .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
            : [];
}
