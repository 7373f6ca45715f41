using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

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
}
