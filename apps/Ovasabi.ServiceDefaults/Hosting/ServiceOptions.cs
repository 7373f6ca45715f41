using System.Net;
using Microsoft.Extensions.Configuration;

namespace Ovasabi.ServiceDefaults.Hosting;

/// <summary>
/// Where an app listens and which Dapr components it uses (section <c>Service</c>; the environment `dapr run` sets,
/// <c>APP_PORT</c> and <c>MANAGEMENT_PORT</c>, takes precedence).
/// </summary>
public sealed class ServiceOptions
{
    public const string Section = "Service";

    /// <summary>The service name, which is also its Dapr app ID (<c>user</c>, <c>finance</c>, ...).</summary>
    public string Name { get; set; } = "";

    /// <summary>The h2c gRPC port (the Dapr app port).</summary>
    public int GrpcPort { get; set; } = 5000;

    /// <summary>The HTTP/1.1 port for /healthz, /readyz and /metrics (0: the gRPC port + 1).</summary>
    public int ManagementPort { get; set; }

    /// <summary>Listen address; all interfaces by default so Kubernetes probes and the sidecar reach the app.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    public string PubSubName { get; set; } = "pubsub";

    public string StateStoreName { get; set; } = "statestore";

    /// <summary>Apply pending EF Core migrations before serving (local runs; Kubernetes uses the migrate command in a Job).</summary>
    public bool MigrateOnStartup { get; set; }

    /// <summary>Block start-up until the sidecar's outbound API answers (daprd's /v1.0/healthz/outbound).</summary>
    public bool WaitForSidecar { get; set; } = true;

    public int SidecarTimeoutSeconds { get; set; } = 60;

    public TimeSpan SidecarTimeout => TimeSpan.FromSeconds(SidecarTimeoutSeconds);

    /// <summary>The app's settings, checked: a bad value throws, naming its key.</summary>
    public static ServiceOptions From(IConfiguration configuration, string name)
    {
        var environment = new Dictionary<string, string?>();
        if (configuration["APP_PORT"] is { Length: > 0 } appPort)
        {
            environment[$"{Section}:GrpcPort"] = appPort;
        }
        if (configuration["MANAGEMENT_PORT"] is { Length: > 0 } managementPort)
        {
            environment[$"{Section}:ManagementPort"] = managementPort;
        }
        var merged = new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(environment).Build();
        var options = Settings.Read<ServiceOptions>(merged, Section, Problems);
        options.Name = name;
        options.ManagementPort = options.ManagementPort == 0 ? options.GrpcPort + 1 : options.ManagementPort;
        options.ListenAddress = options.ListenAddress == "localhost" ? "127.0.0.1" : options.ListenAddress;
        return options;
    }

    private static IEnumerable<string> Problems(ServiceOptions o) =>
        Settings.Check(o.GrpcPort is > 0 and <= 65535, $"{Section}:GrpcPort", "must be a port number (1-65535)")
            .Concat(Settings.Check(o.ManagementPort is >= 0 and <= 65535 && o.ManagementPort != o.GrpcPort, $"{Section}:ManagementPort", "must be a port number other than the gRPC port"))
            .Concat(Settings.Check(o.ListenAddress == "localhost" || IPAddress.TryParse(o.ListenAddress, out _), $"{Section}:ListenAddress", "must be an IP address or localhost"))
            .Concat(Settings.Check(o.PubSubName.Length > 0, $"{Section}:PubSubName", "is required"))
            .Concat(Settings.Check(o.StateStoreName.Length > 0, $"{Section}:StateStoreName", "is required"))
            .Concat(Settings.Check(o.SidecarTimeoutSeconds > 0, $"{Section}:SidecarTimeoutSeconds", "must be positive"));
}
