using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Ovasabi.DevSidecar.Components;

namespace Ovasabi.DevSidecar.Tests.Components.State;

/// <summary>Builds component definitions and requests the way the sidecar hands them to a state store.</summary>
internal static class StateStoreTestSupport
{
    public const string SourceFile = "statestore.yaml";

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static ComponentContext Context { get; } =
        new("test-app", null, AppContext.BaseDirectory, NullLoggerFactory.Instance, TimeProvider.System);

    public static ComponentDefinition Definition(string type, string version, IReadOnlyDictionary<string, string> metadata) =>
        new("statestore", type, version, new ComponentMetadata(metadata, "statestore", SourceFile), SourceFile, []);

    public static StateSetRequest Save(
        string key,
        string value,
        string? etag = null,
        StateConcurrency concurrency = StateConcurrency.Unspecified,
        string? ttl = null,
        bool json = false) =>
        new(key, Encoding.UTF8.GetBytes(value), etag, concurrency, StateConsistency.Unspecified, Metadata(ttl), json);

    public static StateDeleteRequest Remove(string key, string? etag = null) =>
        new(key, etag, StateConcurrency.Unspecified, StateConsistency.Unspecified, Metadata(null));

    public static string Text(StateEntry? entry) => Encoding.UTF8.GetString(Assert.IsType<StateEntry>(entry).Value);

    /// <summary>Polls until <paramref name="condition"/> holds; fails after a generous deadline instead of sleeping a fixed time.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>A loopback port nothing listens on.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Dictionary<string, string> Metadata(string? ttl) =>
        ttl is null ? [] : new() { [StateRequestMetadata.TtlKey] = ttl };
}
