using Microsoft.Extensions.Configuration;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>Where an app listens and what it uses, read from the environment `dapr run` sets and the Service section.</summary>
public sealed class ServiceOptionsTests
{
    [Fact]
    public void Without_settings_the_defaults_apply()
    {
        var options = From([]);

        Assert.Equal(new ServiceOptions { Name = "probe", GrpcPort = 5000, ManagementPort = 5001, ListenAddress = "0.0.0.0", PubSubName = "pubsub", StateStoreName = "statestore", MigrateOnStartup = false, WaitForSidecar = true, SidecarTimeout = TimeSpan.FromSeconds(60) }, options);
    }

    [Fact]
    public void APP_PORT_and_MANAGEMENT_PORT_win_over_the_Service_section()
    {
        var options = From(new() { ["APP_PORT"] = "7000", ["MANAGEMENT_PORT"] = "7100", ["Service:GrpcPort"] = "6000", ["Service:ManagementPort"] = "6100" });

        Assert.Equal((7000, 7100), (options.GrpcPort, options.ManagementPort));
    }

    [Fact]
    public void The_management_port_defaults_to_the_gRPC_port_plus_one()
    {
        Assert.Equal(6001, From(new() { ["Service:GrpcPort"] = "6000" }).ManagementPort);
        Assert.Equal(7001, From(new() { ["APP_PORT"] = "7000", ["Service:GrpcPort"] = "6000" }).ManagementPort);
    }

    [Fact]
    public void The_Service_section_sets_components_migration_and_the_sidecar_wait()
    {
        var options = From(new()
        {
            ["Service:ListenAddress"] = "127.0.0.1",
            ["Service:PubSubName"] = "events",
            ["Service:StateStoreName"] = "cache",
            ["Service:MigrateOnStartup"] = "true",
            ["Service:WaitForSidecar"] = "false",
            ["Service:SidecarTimeoutSeconds"] = "5",
        });

        Assert.Equal(("127.0.0.1", "events", "cache", true, false, TimeSpan.FromSeconds(5)),
            (options.ListenAddress, options.PubSubName, options.StateStoreName, options.MigrateOnStartup, options.WaitForSidecar, options.SidecarTimeout));
    }

    [Fact]
    public void A_port_that_is_not_a_number_falls_back_to_the_next_source()
    {
        Assert.Equal(6000, From(new() { ["APP_PORT"] = "", ["Service:GrpcPort"] = "6000" }).GrpcPort);
    }

    private static ServiceOptions From(Dictionary<string, string?> settings) =>
        ServiceOptions.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "probe");
}
