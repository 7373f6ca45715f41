using System.CommandLine;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Cli;

/// <summary>daprd's command-line flags (the subset the dev sidecar honours, plus flags it accepts and ignores).</summary>
public sealed class DaprdOptions
{
    public Option<string> AppId { get; } = new("--app-id") { Description = "The app ID this sidecar serves", Required = true };
    public Option<int> AppPort { get; } = new("--app-port") { Description = "The port the app listens on (none: no app channel)" };
    public Option<string> AppProtocol { get; } = new("--app-protocol") { Description = "http or grpc", DefaultValueFactory = _ => "http" };
    public Option<string> AppChannelAddress { get; } = new("--app-channel-address") { Description = "The app's address", DefaultValueFactory = _ => "127.0.0.1" };
    public Option<int> HttpPort { get; } = new("--dapr-http-port") { Description = "HTTP API port (0: any free port)", DefaultValueFactory = _ => 3500 };
    public Option<int> GrpcPort { get; } = new("--dapr-grpc-port") { Description = "gRPC API port (0: any free port)", DefaultValueFactory = _ => 50001 };
    public Option<int> InternalGrpcPort { get; } = new("--dapr-internal-grpc-port") { Description = "Sidecar-to-sidecar port (0: any free port)" };
    public Option<int> MetricsPort { get; } = new("--metrics-port") { Description = "Prometheus metrics port", DefaultValueFactory = _ => 9090 };
    public Option<bool> EnableMetrics { get; } = new("--enable-metrics") { Description = "Serve Prometheus metrics", DefaultValueFactory = _ => true };
    public Option<string[]> ResourcesPaths { get; } = new("--resources-path", "--components-path") { Description = "A folder of resource YAML files (repeatable)", AllowMultipleArgumentsPerToken = false };
    public Option<string?> Config { get; } = new("--config") { Description = "A Dapr Configuration YAML file" };
    public Option<string> LogLevel { get; } = new("--log-level") { Description = "debug, info, warn, error or fatal", DefaultValueFactory = _ => "info" };
    public Option<bool> LogAsJson { get; } = new("--log-as-json") { Description = "Write logs as JSON" };
    public Option<string> ListenAddresses { get; } = new("--dapr-listen-addresses") { Description = "Comma-separated addresses for the HTTP, gRPC and metrics ports", DefaultValueFactory = _ => "127.0.0.1" };
    public Option<string> MaxBodySize { get; } = new("--max-body-size") { Description = "Largest request body, e.g. 4Mi", DefaultValueFactory = _ => "4Mi" };
    public Option<int> AppMaxConcurrency { get; } = new("--app-max-concurrency") { Description = "Concurrent calls into the app (-1: unlimited)", DefaultValueFactory = _ => -1 };
    public Option<bool> EnableAppHealthCheck { get; } = new("--enable-app-health-check") { Description = "Probe the app's health" };
    public Option<string> AppHealthCheckPath { get; } = new("--app-health-check-path") { Description = "HTTP path probed", DefaultValueFactory = _ => "/healthz" };
    public Option<string> AppHealthProbeInterval { get; } = new("--app-health-probe-interval") { Description = "Seconds between probes", DefaultValueFactory = _ => "5" };
    public Option<string> AppHealthProbeTimeout { get; } = new("--app-health-probe-timeout") { Description = "Probe timeout in milliseconds", DefaultValueFactory = _ => "500" };
    public Option<int> AppHealthThreshold { get; } = new("--app-health-threshold") { Description = "Failed probes before the app counts as unhealthy", DefaultValueFactory = _ => 3 };

    /// <summary>daprd flags that dapr run passes but that mean nothing here (placement, scheduler, profiling, mTLS).</summary>
    public IReadOnlyList<Option<string?>> Ignored { get; } =
    [
        .. new[]
        {
            "--placement-host-address", "--scheduler-host-address", "--mode", "--enable-profiling", "--profile-port",
            "--enable-api-logging", "--read-buffer-size", "--enable-mtls", "--sentry-address", "--control-plane-address",
            "--dapr-graceful-shutdown-seconds", "--dapr-block-shutdown-duration", "--app-ssl", "--dapr-http-max-request-size",
            "--dapr-http-read-buffer-size", "--enable-app-health", "--disable-builtin-k8s-secret-store",
        }.Select(name => new Option<string?>(name) { Hidden = true, Arity = ArgumentArity.ZeroOrOne }),
    ];

    public IEnumerable<Option> All =>
    [
        AppId, AppPort, AppProtocol, AppChannelAddress, HttpPort, GrpcPort, InternalGrpcPort, MetricsPort, EnableMetrics,
        ResourcesPaths, Config, LogLevel, LogAsJson, ListenAddresses, MaxBodySize, AppMaxConcurrency,
        EnableAppHealthCheck, AppHealthCheckPath, AppHealthProbeInterval, AppHealthProbeTimeout, AppHealthThreshold, .. Ignored,
    ];

    /// <exception cref="FormatException">a flag's value is refused; the message names the flag</exception>
    /// <exception cref="ArgumentException">a flag's value is refused; the message names the flag</exception>
    public SidecarOptions Bind(ParseResult result)
    {
        var options = BindValues(result);
        // Checked here so a bad level is a one-line flag error, not an exception from the logging set-up.
        SidecarLogging.Level(options.LogLevel);
        return options;
    }

    private SidecarOptions BindValues(ParseResult result) => new SidecarOptions
    {
        AppId = result.GetRequiredValue(AppId),
        AppPort = result.GetValue(AppPort),
        AppProtocol = result.GetValue(AppProtocol)!.ToLowerInvariant(),
        AppChannelAddress = result.GetValue(AppChannelAddress)!,
        HttpPort = result.GetValue(HttpPort),
        GrpcPort = result.GetValue(GrpcPort),
        InternalGrpcPort = result.GetValue(InternalGrpcPort),
        MetricsPort = result.GetValue(MetricsPort),
        EnableMetrics = result.GetValue(EnableMetrics),
        ResourcesPaths = result.GetValue(ResourcesPaths) ?? [],
        ConfigPath = result.GetValue(Config),
        LogLevel = result.GetValue(LogLevel)!,
        LogAsJson = result.GetValue(LogAsJson),
        ListenAddresses = result.GetValue(ListenAddresses)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        MaxBodySize = Parsed(result, MaxBodySize, Sizes.Parse),
        AppMaxConcurrency = result.GetValue(AppMaxConcurrency),
        EnableAppHealthCheck = result.GetValue(EnableAppHealthCheck),
        AppHealthCheckPath = result.GetValue(AppHealthCheckPath)!,
        AppHealthProbeInterval = Parsed(result, AppHealthProbeInterval, text => Sizes.Duration(text, TimeSpan.FromSeconds(1))),
        AppHealthProbeTimeout = Parsed(result, AppHealthProbeTimeout, text => Sizes.Duration(text, TimeSpan.FromMilliseconds(1))),
        AppHealthThreshold = result.GetValue(AppHealthThreshold),
    }.WithEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>A flag's text parsed by <paramref name="parse"/>; a refusal names the flag, as Go's flag package does.</summary>
    private static T Parsed<T>(ParseResult result, Option<string> option, Func<string, T> parse)
    {
        var text = result.GetValue(option)!;
        try
        {
            return parse(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{option.Name} {text}: {e.Message}", e);
        }
    }

    /// <summary>Go's flag package accepts <c>-flag</c> as well as <c>--flag</c>; so does the dev sidecar.</summary>
    public static string[] NormalizeGoFlags(string[] args) =>
        args.Select(a => a.Length > 2 && a[0] == '-' && char.IsLetter(a[1]) ? "-" + a : a).ToArray();
}
