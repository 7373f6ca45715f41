using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Cli;

/// <summary>The Dapr CLI's multi-app run template (<c>dapr run -f dapr.yaml</c>), the keys the dev sidecar honours.</summary>
public sealed class RunFileModel
{
    public int? Version { get; set; }

    public string? Name { get; set; }

    public RunAppModel? Common { get; set; }

    public List<RunAppModel>? Apps { get; set; }
}

/// <summary>One app of a run file; <c>common</c> uses the same keys.</summary>
public sealed class RunAppModel
{
    public string? AppDirPath { get; set; }

    public string? AppID { get; set; }

    public int? AppPort { get; set; }

    public string? AppProtocol { get; set; }

    public string? AppChannelAddress { get; set; }

    public List<string>? Command { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    public int? DaprHTTPPort { get; set; }

    public int? DaprGRPCPort { get; set; }

    public int? DaprInternalGRPCPort { get; set; }

    public int? MetricsPort { get; set; }

    public List<string>? ResourcesPaths { get; set; }

    /// <summary>Deprecated single-path form.</summary>
    public string? ResourcesPath { get; set; }

    public string? ConfigFilePath { get; set; }

    public string? LogLevel { get; set; }

    public string? AppLogDestination { get; set; }

    public string? DaprdLogDestination { get; set; }

    public bool? EnableAppHealthCheck { get; set; }

    public string? AppHealthCheckPath { get; set; }

    public int? AppHealthProbeInterval { get; set; }

    public int? AppHealthProbeTimeout { get; set; }

    public int? AppHealthThreshold { get; set; }

    public int? AppMaxConcurrency { get; set; }

    public string? MaxBodySize { get; set; }
}

/// <summary>A run file read and resolved against its folder, with daprd's precedence rules applied per app.</summary>
public sealed record RunApp(
    string AppId,
    string AppDirectory,
    RunAppModel Merged,
    IReadOnlyList<string> ResourcesPaths,
    string? ConfigPath,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Environment);

public static class RunFile
{
    public static IReadOnlyList<RunApp> Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "dapr.yaml") : path;
        if (!File.Exists(file))
        {
            throw new ResourceException(file, null, "run file not found");
        }
        file = Path.GetFullPath(file);
        var baseDirectory = Path.GetDirectoryName(file)!;
        var documents = YamlDocuments.Split(file, File.ReadAllText(file)).ToList();
        var model = documents.Count == 1 ? documents[0].Read<RunFileModel>() : throw new ResourceException(file, null, "a run file holds exactly one YAML document");
        if (model.Version != 1)
        {
            throw new ResourceException(file, "version", "must be 1");
        }
        if (model.Apps is not { Count: > 0 })
        {
            throw new ResourceException(file, "apps", "lists no apps");
        }
        var common = model.Common ?? new RunAppModel();
        var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        var apps = new List<RunApp>();
        for (var i = 0; i < model.Apps.Count; i++)
        {
            var app = model.Apps[i];
            if (string.IsNullOrWhiteSpace(app.AppDirPath))
            {
                throw new ResourceException(file, $"apps[{i}].appDirPath", "is required");
            }
            var directory = Path.GetFullPath(Path.Combine(baseDirectory, app.AppDirPath));
            if (!Directory.Exists(directory))
            {
                throw new ResourceException(file, $"apps[{i}].appDirPath", $"{directory} does not exist");
            }
            var appId = string.IsNullOrWhiteSpace(app.AppID) ? Path.GetFileName(directory.TrimEnd(Path.DirectorySeparatorChar)) : app.AppID;
            var merged = Merge(common, app);
            var resources = First(
                Paths(baseDirectory, app.ResourcesPaths, app.ResourcesPath),
                ExistingDirectory(Path.Combine(directory, ".dapr", "resources")),
                Paths(baseDirectory, common.ResourcesPaths, common.ResourcesPath),
                ExistingDirectory(Path.Combine(home, ".dapr", "components")));
            var config = FirstFile(
                Resolve(baseDirectory, app.ConfigFilePath),
                Path.Combine(directory, ".dapr", "config.yaml"),
                Resolve(baseDirectory, common.ConfigFilePath),
                Path.Combine(home, ".dapr", "config.yaml"));
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in (common.Env ?? []).Concat(app.Env ?? []))
            {
                environment[key] = value;
            }
            // Like the Dapr CLI, an app without a command gets its sidecar only (the app is started elsewhere, e.g. an IDE).
            apps.Add(new RunApp(appId, directory, merged, resources, config, merged.Command ?? [], environment));
        }
        var duplicate = apps.GroupBy(a => a.AppId).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? apps : throw new ResourceException(file, "apps", $"app ID {duplicate.Key} appears more than once");
    }

    private static RunAppModel Merge(RunAppModel common, RunAppModel app) => new()
    {
        AppPort = app.AppPort,
        AppProtocol = app.AppProtocol ?? common.AppProtocol,
        AppChannelAddress = app.AppChannelAddress ?? common.AppChannelAddress,
        Command = app.Command ?? common.Command,
        DaprHTTPPort = app.DaprHTTPPort,
        DaprGRPCPort = app.DaprGRPCPort,
        DaprInternalGRPCPort = app.DaprInternalGRPCPort,
        MetricsPort = app.MetricsPort,
        LogLevel = app.LogLevel ?? common.LogLevel,
        AppLogDestination = app.AppLogDestination ?? common.AppLogDestination,
        DaprdLogDestination = app.DaprdLogDestination ?? common.DaprdLogDestination,
        EnableAppHealthCheck = app.EnableAppHealthCheck ?? common.EnableAppHealthCheck,
        AppHealthCheckPath = app.AppHealthCheckPath ?? common.AppHealthCheckPath,
        AppHealthProbeInterval = app.AppHealthProbeInterval ?? common.AppHealthProbeInterval,
        AppHealthProbeTimeout = app.AppHealthProbeTimeout ?? common.AppHealthProbeTimeout,
        AppHealthThreshold = app.AppHealthThreshold ?? common.AppHealthThreshold,
        AppMaxConcurrency = app.AppMaxConcurrency ?? common.AppMaxConcurrency,
        MaxBodySize = app.MaxBodySize ?? common.MaxBodySize,
    };

    private static IReadOnlyList<string> First(params IReadOnlyList<string>[] candidates) =>
        candidates.FirstOrDefault(c => c.Count > 0) ?? [];

    private static IReadOnlyList<string> Paths(string baseDirectory, List<string>? many, string? single) =>
        (many is { Count: > 0 } ? many : single is null ? [] : [single]).Select(p => Resolve(baseDirectory, p)!).ToList();

    private static IReadOnlyList<string> ExistingDirectory(string path) => Directory.Exists(path) ? [path] : [];

    private static string? FirstFile(params string?[] candidates) => candidates.FirstOrDefault(File.Exists);

    private static string? Resolve(string baseDirectory, string? path) =>
        string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(Path.Combine(baseDirectory, path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), path[2..])
            : path));
}
