namespace Ovasabi.DevSidecar.Hosting;

/// <summary>One sidecar's settings: daprd's command-line flags plus the environment daprd reads.</summary>
public sealed record SidecarOptions
{
    public required string AppId { get; init; }

    /// <summary>0 when the sidecar has no app to call (daprd without --app-port).</summary>
    public int AppPort { get; init; }

    /// <summary><c>http</c> or <c>grpc</c> (daprd's h2c and grpcs/https variants are refused).</summary>
    public string AppProtocol { get; init; } = "http";

    public string AppChannelAddress { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port.</summary>
    public int HttpPort { get; init; } = 3500;

    public int GrpcPort { get; init; } = 50001;

    public int InternalGrpcPort { get; init; }

    public int MetricsPort { get; init; } = 9090;

    public bool EnableMetrics { get; init; } = true;

    public IReadOnlyList<string> ListenAddresses { get; init; } = ["127.0.0.1"];

    public IReadOnlyList<string> ResourcesPaths { get; init; } = [];

    public string? ConfigPath { get; init; }

    public string LogLevel { get; init; } = "info";

    public bool LogAsJson { get; init; }

    public long MaxBodySize { get; init; } = 4 * 1024 * 1024;

    /// <summary>-1 = unlimited concurrent calls into the app.</summary>
    public int AppMaxConcurrency { get; init; } = -1;

    public bool EnableAppHealthCheck { get; init; }

    public string AppHealthCheckPath { get; init; } = "/healthz";

    public TimeSpan AppHealthProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan AppHealthProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    public int AppHealthThreshold { get; init; } = 3;

    /// <summary>DAPR_API_TOKEN: the token apps must send to this sidecar.</summary>
    public string? ApiToken { get; init; }

    /// <summary>APP_API_TOKEN: the token this sidecar sends to its app.</summary>
    public string? AppApiToken { get; init; }

    /// <summary>NAMESPACE, empty in self-hosted mode.</summary>
    public string? Namespace { get; init; }

    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();

    public bool IsGrpcApp => AppProtocol == "grpc";

    public SidecarOptions WithEnvironment(Func<string, string?> getEnvironment) => this with
    {
        ApiToken = NullIfEmpty(getEnvironment("DAPR_API_TOKEN")),
        AppApiToken = NullIfEmpty(getEnvironment("APP_API_TOKEN")),
        Namespace = NullIfEmpty(getEnvironment("NAMESPACE")),
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
