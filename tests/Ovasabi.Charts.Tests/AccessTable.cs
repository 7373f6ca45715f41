using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using Ovasabi.Contracts;

namespace Ovasabi.Charts.Tests;

/// <summary>
/// The platform's access table (protos/ovasabi/access.yaml) as the oracle of every invocation policy: for an app and a
/// caller, exactly which operations (<c>/package.Service/Method</c>) the caller may invoke, decided from the table and
/// the contracts' service descriptors. The chart's and the local platform's Dapr access control are evaluated against it
/// over every operation an app can be asked for.
/// </summary>
public static class AccessTable
{
    private static readonly JsonObject Apps = YamlJson.LoadAll(File.ReadAllText(Path.Combine(Helm.Root, "protos", ContractFiles.Access))).Single()["apps"]!.AsObject();

    /// <summary>Every gRPC service of the contracts (protos/), by full name, with its methods.</summary>
    public static IReadOnlyDictionary<string, ServiceDescriptor> Services { get; } = typeof(ContractFiles).Assembly.GetTypes()
        .Select(type => type.GetProperty("Descriptor")?.GetValue(null))
        .OfType<ServiceDescriptor>()
        .ToDictionary(service => service.FullName, StringComparer.Ordinal);

    /// <summary>The apps of the table, in its order.</summary>
    public static IReadOnlyList<string> AppIds => [.. Apps.Select(app => app.Key)];

    public static IReadOnlyList<string> Serves(string app) => Strings(Apps[app]?["serves"]);

    public static IReadOnlyList<string> Calls(string app) => Strings(Apps[app]?["calls"]);

    /// <summary>The app of the table that serves the operation's gRPC service, or null (infrastructure every app answers).</summary>
    public static string? ServedBy(string operation)
    {
        var service = operation.TrimStart('/').Split('/')[0];
        return AppIds.FirstOrDefault(app => Serves(app).Contains(service));
    }

    /// <summary>Operations every app answers besides its own services: health, reflection, and Dapr's callbacks.</summary>
    public static readonly string[] Infrastructure =
    [
        "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/dapr.proto.runtime.v1.AppCallback/OnTopicEvent", "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
        "/dapr.proto.runtime.v1.AppCallback/OnInvoke", "/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
        "/dapr.proto.runtime.v1.AppCallback/ListInputBindings", "/dapr.proto.runtime.v1.AppCallback/OnJobEvent", "/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
        "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
    ];

    /// <summary>Every operation anyone could ask of any app: all RPCs of the contracts and the infrastructure ones.</summary>
    public static IReadOnlyList<string> AllOperations { get; } =
        [.. Services.Values.SelectMany(s => s.Methods.Select(m => $"/{s.FullName}/{m.Name}")).Order(StringComparer.Ordinal), .. Infrastructure];

    /// <summary>
    /// What <paramref name="caller"/> may invoke on <paramref name="app"/> when <paramref name="enabled"/> apps run and
    /// <paramref name="external"/> are its external callers: an app of the table what it lists among the services
    /// <paramref name="app"/> serves (never itself); an external caller those services whole, health and reflection;
    /// anyone else nothing.
    /// </summary>
    public static ISet<string> Allowed(string app, string caller, IReadOnlyCollection<string> enabled, IReadOnlyCollection<string> external)
    {
        var serves = Apps.ContainsKey(app) ? Serves(app) : [];
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        if (Apps.ContainsKey(caller) && caller != app && enabled.Contains(caller))
        {
            allowed.UnionWith(Calls(caller).Where(m => serves.Contains(m.Split('/')[0])).Select(m => "/" + m));
        }
        if (external.Contains(caller))
        {
            allowed.UnionWith(serves.SelectMany(s => Services[s].Methods.Select(m => $"/{s}/{m.Name}")));
            allowed.UnionWith(Infrastructure.Where(o => o.StartsWith("/grpc.", StringComparison.Ordinal)));
        }
        return allowed;
    }

    /// <summary>
    /// Whether a Dapr Configuration's <c>spec.accessControl</c> lets <paramref name="caller"/> invoke
    /// <paramref name="operation"/> of a gRPC app, by daprd's rules for the names this platform uses (exact names and a
    /// trailing <c>/*</c> for one segment): the first matching operation of the caller's policy decides, else the
    /// policy's default, else the global default.
    /// </summary>
    public static bool Admits(JsonNode accessControl, string caller, string operation)
    {
        var policy = accessControl["policies"]?.AsArray().Select(p => p!.AsObject()).FirstOrDefault(p => (string?)p["appId"] == caller);
        if (policy is null)
        {
            return (string?)accessControl["defaultAction"] == "allow";
        }
        foreach (var entry in policy["operations"]?.AsArray() ?? [])
        {
            var name = (string)entry!["name"]!;
            var matches = name.EndsWith("/*", StringComparison.Ordinal)
                ? operation.StartsWith(name[..^1], StringComparison.Ordinal) && !operation[(name.Length - 1)..].Contains('/', StringComparison.Ordinal)
                : name == operation;
            if (matches)
            {
                return (string?)entry["action"] is null or "allow";
            }
        }
        return (string?)(policy["defaultAction"] ?? accessControl["defaultAction"]) == "allow";
    }

    private static string[] Strings(JsonNode? node) => node?.AsArray().Select(n => (string)n!).ToArray() ?? [];
}
