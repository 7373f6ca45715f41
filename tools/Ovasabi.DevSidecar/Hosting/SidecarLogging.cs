using Serilog;
using Serilog.Events;
using Serilog.Templates;

namespace Ovasabi.DevSidecar.Hosting;

/// <summary>Sidecar logs in daprd's shapes: logfmt-like text lines, or JSON objects with <c>--log-as-json</c>.</summary>
public sealed class SidecarLogging : IDisposable
{
    private readonly Serilog.Core.Logger _logger;

    private SidecarLogging(Serilog.Core.Logger logger) => _logger = logger;

    /// <summary>Adds this sidecar's log sink to a logging builder.</summary>
    public void Configure(ILoggingBuilder builder) =>
        builder.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddSerilog(_logger, dispose: false);

    /// <summary>Flushes and closes the sink once the sidecar has stopped.</summary>
    public void Dispose() => _logger.Dispose();

    // daprd's field names (time, level, msg, app_id, scope, type) so log tooling written for daprd keeps working.
    private const string DaprLevel =
        "if @l = 'Information' then 'info' else if @l = 'Warning' then 'warning' else if @l = 'Error' then 'error' else if @l = 'Fatal' then 'fatal' else 'debug'";

    private const string TextTemplate =
        "time=\"{@t:yyyy-MM-ddTHH:mm:ss.fffzzz}\" level={" + DaprLevel + "} msg=\"{@m}\" app_id={AppId} scope={SourceContext} type=log{#if @x is not null} error=\"{@x}\"{#end}\n";

    private const string JsonTemplate =
        "{ {time: @t, level: " + DaprLevel + ", msg: @m, app_id: AppId, scope: SourceContext, type: 'log', error: if @x is null then undefined() else ToString(@x)} }\n";

    public static LogEventLevel Level(string daprLevel) => daprLevel.ToLowerInvariant() switch
    {
        "debug" => LogEventLevel.Debug,
        "info" => LogEventLevel.Information,
        "warn" or "warning" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "fatal" => LogEventLevel.Fatal,
        _ => throw new ArgumentException($"--log-level {daprLevel} is not one of debug, info, warn, error, fatal"),
    };

    /// <summary>Logging for one sidecar: to the console, or to <paramref name="file"/> when given.</summary>
    public static SidecarLogging Create(string appId, string level, bool asJson, string? file = null)
    {
        var minimum = Level(level);
        var formatter = new ExpressionTemplate(asJson ? JsonTemplate : TextTemplate);
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(minimum)
            // ASP.NET Core's and YARP's per-request chatter (YARP logs each proxied call at information level) only when
            // debugging the sidecar itself: daprd logs no line per call, and writing them cost a sixth of a hop's CPU.
            .MinimumLevel.Override("Microsoft", minimum == LogEventLevel.Debug ? LogEventLevel.Debug : LogEventLevel.Warning)
            .MinimumLevel.Override("Yarp", minimum == LogEventLevel.Debug ? LogEventLevel.Debug : LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .Enrich.WithProperty("AppId", appId);
        configuration = file is null
            ? configuration.WriteTo.Console(formatter, standardErrorFromLevel: null)
            : configuration.WriteTo.File(formatter, file, shared: true, flushToDiskInterval: TimeSpan.FromSeconds(1));
        return new SidecarLogging(configuration.CreateLogger());
    }
}
