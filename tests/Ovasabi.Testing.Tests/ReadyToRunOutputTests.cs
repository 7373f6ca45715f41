using System.Reflection.PortableExecutable;
using Ovasabi.Testing.Sidecars;

namespace Ovasabi.Testing.Tests;

/// <summary>
/// The processes the fixtures start by the hundred (every app and the dev sidecar) run precompiled code in Release
/// (Directory.Build.targets): their own assembly and the libraries they load, not the design-time tools beside them.
/// </summary>
public sealed class ReadyToRunOutputTests
{
    // The configuration this test assembly was built in (bin/<Configuration>/net10.0), as the servers were.
    private static readonly bool Release = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name == "Release";

    public static TheoryData<string, string> Servers()
    {
        var root = RepositoryRoot.Find()!;
        var servers = new TheoryData<string, string> { { Path.Combine("tools", "Ovasabi.DevSidecar"), "dev-sidecar.dll" } };
        foreach (var app in Directory.GetDirectories(Path.Combine(root, "apps")).Select(Path.GetFileName).Order())
        {
            var project = Path.Combine(root, "apps", app!, app + ".csproj");
            if (File.Exists(project) && File.ReadAllText(project).Contains("Sdk=\"Microsoft.NET.Sdk.Web\"", StringComparison.Ordinal))
            {
                servers.Add(Path.Combine("apps", app!), app + ".dll");
            }
        }
        return servers;
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void A_server_and_its_libraries_are_precompiled_in_Release_and_plain_IL_otherwise(string project, string assembly)
    {
        var main = SidecarProcess.BuiltAssembly(project, assembly);
        var library = SidecarProcess.BuiltAssembly(project, "Grpc.AspNetCore.Server.dll");

        Assert.Equal(Release, IsReadyToRun(main));
        Assert.Equal(Release, IsReadyToRun(library));
    }

    [Fact]
    public void Design_time_assemblies_beside_an_app_are_left_as_IL()
    {
        var roslyn = SidecarProcess.BuiltAssembly(Path.Combine("apps", "user"), "Microsoft.CodeAnalysis.dll");

        Assert.False(IsReadyToRun(roslyn));
    }

    /// <summary>A ReadyToRun image has a managed native header (ECMA-335's CLI header, field ManagedNativeHeader).</summary>
    private static bool IsReadyToRun(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        return pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
    }
}
