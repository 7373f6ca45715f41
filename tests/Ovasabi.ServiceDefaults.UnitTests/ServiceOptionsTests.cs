using Microsoft.Extensions.Configuration;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.UnitTests;

/// <summary>Where an app listens and what it uses, read from the environment `dapr run` sets and the Service section.</summary>
public sealed class ServiceOptionsTests
{
    [Fact]
    public void Without_settings_the_defaults_apply()
    {
        var options = From([]);

        Assert.Equal(("probe", 5000, 5001, "0.0.0.0", "pubsub", "statestore", false, true, TimeSpan.FromSeconds(60)),
            (options.Name, options.GrpcPort, options.ManagementPort, options.ListenAddress, options.PubSubName, options.StateStoreName, options.MigrateOnStartup,
                options.WaitForSidecar, options.SidecarTimeout));
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
    public void An_empty_APP_PORT_falls_back_to_the_Service_section()
    {
        Assert.Equal(6000, From(new() { ["APP_PORT"] = "", ["Service:GrpcPort"] = "6000" }).GrpcPort);
    }

    [Theory]
    [InlineData("APP_PORT", "http", "Service:GrpcPort")]
    [InlineData("Service:GrpcPort", "70000", "Service:GrpcPort")]
    [InlineData("Service:ManagementPort", "5000", "Service:ManagementPort")]
    [InlineData("Service:ListenAddress", "anywhere", "Service:ListenAddress")]
    [InlineData("Service:SidecarTimeoutSeconds", "0", "Service:SidecarTimeoutSeconds")]
    [InlineData("Service:MigrateOnStartup", "yes please", "Service:MigrateOnStartup")]
    public void A_bad_value_stops_the_app_with_a_message_naming_its_key(string key, string value, string named)
    {
        var error = Assert.ThrowsAny<Exception>(() => From(new() { [key] = value }));

        Assert.Contains(named, error.Message);
    }

    private static ServiceOptions From(Dictionary<string, string?> settings) =>
        ServiceOptions.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "probe");
}
