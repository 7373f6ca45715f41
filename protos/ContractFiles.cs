using System.Reflection;

namespace Ovasabi.Contracts;

/// <summary>The contract files that are data rather than proto (e.g. <c>ovasabi/access.yaml</c>), embedded in this assembly.</summary>
public static class ContractFiles
{
    public const string Access = "ovasabi/access.yaml";

    /// <summary>The text of an embedded contract file, by its path under protos/.</summary>
    public static string Read(string path)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(path)
                           ?? throw new InvalidOperationException($"contract file {path} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
