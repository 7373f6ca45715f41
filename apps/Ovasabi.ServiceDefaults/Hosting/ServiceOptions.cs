using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Ovasabi.ServiceDefaults.Hosting;

/// <summary>
/// Where an app listens and which Dapr components it uses. Read from configuration (section <c>Service</c>, or the
/// environment `dapr run` sets: <c>APP_PORT</c>; <c>MANAGEMENT_PORT</c>).
/// </summary>
public sealed record ServiceOptions
{
    /// <summary>The service name, which is also its Dapr app ID (<c>user</c>, <c>finance</c>, ...).</summary>
    public required string Name { get; init; }

    /// <summary>The h2c gRPC port (the Dapr app port).</summary>
    public int GrpcPort { get; init; } = 5000;

    /// <summary>The HTTP/1.1 port for /healthz, /readyz and /metrics (default: the gRPC port + 1).</summary>
    public int ManagementPort { get; init; }

    /// <summary>Listen address; all interfaces by default so Kubernetes probes and the sidecar reach the app.</summary>
    public string ListenAddress { get; init; } = "0.0.0.0";

    public string PubSubName { get; init; } = "pubsub";

    public string StateStoreName { get; init; } = "statestore";

    /// <summary>Apply pending EF Core migrations before serving (local runs; Kubernetes uses the migrate command in a Job).</summary>
    public bool MigrateOnStartup { get; init; }

    /// <summary>Block start-up until the sidecar's outbound API answers (daprd's /v1.0/healthz/outbound).</summary>
    public bool WaitForSidecar { get; init; } = true;

    public TimeSpan SidecarTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static ServiceOptions From(IConfiguration configuration, string name)
    {
        var section = configuration.GetSection("Service");
        var grpcPort = Int(configuration["APP_PORT"]) ?? Int(section["GrpcPort"]) ?? 5000;
        return new ServiceOptions
        {
            Name = name,
            GrpcPort = grpcPort,
            ManagementPort = Int(configuration["MANAGEMENT_PORT"]) ?? Int(section["ManagementPort"]) ?? grpcPort + 1,
            ListenAddress = section["ListenAddress"] is "localhost" ? "127.0.0.1" : section["ListenAddress"] ?? "0.0.0.0",
            PubSubName = section["PubSubName"] ?? "pubsub",
            StateStoreName = section["StateStoreName"] ?? "statestore",
            MigrateOnStartup = bool.TryParse(section["MigrateOnStartup"], out var migrate) && migrate,
            WaitForSidecar = !bool.TryParse(section["WaitForSidecar"], out var wait) || wait,
            SidecarTimeout = TimeSpan.FromSeconds(Int(section["SidecarTimeoutSeconds"]) ?? 60),
        };
    }

    private static int? Int(string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null;
}
