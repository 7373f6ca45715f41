using Ovasabi.Testing;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>Item names and event keys no other test uses.</summary>
public static class Names
{
    public static string Unique(string hint) => UniqueName.Create(hint);
}
