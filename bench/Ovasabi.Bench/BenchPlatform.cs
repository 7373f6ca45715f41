using System.Security.Cryptography;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using Ovasabi.Testing.Sidecars;
using YamlDotNet.RepresentationModel;

namespace Ovasabi.Bench;

/// <summary>
/// The finance platform (user, auth and finance apps with dev sidecars) on PostgreSQL and Redis servers of its own, as
/// the finance tests' shared platform; disposing it stops every process it started.
/// </summary>
/// <param name="sidecarConfig">The apps' sidecars' Configuration, when not the local platform's (e.g. with a trace exporter).</param>
internal sealed class BenchPlatform(string? sidecarConfig = null) : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true)
{
    protected override string SidecarConfig => sidecarConfig ?? base.SidecarConfig;

    /// <summary>The apps and sidecars whose CPU time a phase reports, by name.</summary>
    public ProcessCpu Cpu() => new(
    [
        .. Apps.Select(app => ($"{app} app", (Func<TimeSpan>)(() => App(app).CpuTime))),
        .. Apps.Select(app => ($"{app} sidecar", (Func<TimeSpan>)(() => Sidecar(app).CpuTime))),
        ("gateway sidecar", () => GatewaySidecar.CpuTime),
        ("subscriber sidecar", () => SubscriberSidecar.CpuTime),
    ]);

    /// <summary>
    /// The floor phase's echo server and its own dev sidecar, stopped with the platform. The sidecar starts as the apps'
    /// do (the platform's resources, name resolution and Configuration, an app API token), so the gateway reaches
    /// <see cref="EchoServer.AppId"/> as it reaches finance; its Configuration is a copy whose access control also
    /// lets the gateway and echo itself call the Echo service.
    /// </summary>
    public async Task<(EchoServerProcess Server, SidecarProcess Sidecar)> StartEchoAsync(CancellationToken cancellationToken)
    {
        var server = Own(await EchoServerProcess.StartAsync(cancellationToken));
        var sidecar = Own(await SidecarProcess.StartAsync(CallerLaunch(EchoServer.AppId, server.Port) with
        {
            ConfigFile = EchoSidecarConfig(),
            // Sent to the app with every call, as the apps' sidecars do; checking it is the app's work, which the echo server skips.
            Environment = new Dictionary<string, string?> { ["APP_API_TOKEN"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)) },
        }, cancellationToken));
        await sidecar.WaitReadyAsync(cancellationToken);
        return (server, sidecar);
    }

    private string EchoSidecarConfig()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(SidecarConfig))
        {
            yaml.Load(reader);
        }
        var spec = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["spec"];
        var policies = (YamlSequenceNode)((YamlMappingNode)spec["accessControl"])["policies"];
        static YamlMappingNode EchoService() => new("name", "/ovasabi.testing.v1.Echo/*", "action", "allow");
        ((YamlSequenceNode)policies.Cast<YamlMappingNode>().Single(p => p["appId"].ToString() == GatewayAppId)["operations"]).Add(EchoService());
        policies.Add(new YamlMappingNode(
            "appId", EchoServer.AppId, "defaultAction", "deny", "trustDomain", "public", "namespace", "default",
            "operations", new YamlSequenceNode(EchoService())));
        var path = NewFolder().PathOf("echo-config.yaml");
        using var writer = new StreamWriter(path);
        yaml.Save(writer, assignAnchors: false);
        return path;
    }
}
