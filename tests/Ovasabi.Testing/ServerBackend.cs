namespace Ovasabi.Testing;

/// <summary>How PostgreSQL and Redis are provided: local loopback processes, or Testcontainers.</summary>
internal enum ServerBackend
{
    Process,
    Container,
}

internal static class BackendSelection
{
    public const string Variable = "OVASABI_TEST_BACKEND";

    private static readonly Lazy<Task<ServerBackend>> ForThisRun = new(SelectForThisRunAsync);

    /// <summary>The forced backend, else the one chosen once per test run.</summary>
    public static Task<ServerBackend> ResolveAsync(ServerBackend? forced) =>
        forced is { } backend ? Task.FromResult(backend) : ForThisRun.Value;

    /// <summary>
    /// OVASABI_TEST_BACKEND=process|container wins; otherwise containers only when an engine answers a ping.
    /// The engine is probed even when containers are forced, because podman needs extra Testcontainers settings.
    /// </summary>
    public static async Task<(ServerBackend Backend, ContainerEngine? Engine)> SelectAsync(
        Func<string, string?> environment, string defaultSocket, CancellationToken cancellationToken)
    {
        var forced = environment(Variable)?.Trim().ToLowerInvariant();
        if (forced == "process")
        {
            return (ServerBackend.Process, null);
        }

        if (forced is not (null or "" or "container"))
        {
            throw new InvalidOperationException($"{Variable} must be 'process' or 'container', not '{forced}'");
        }

        var engine = await ContainerEngine.ProbeAsync(environment("DOCKER_HOST"), defaultSocket, cancellationToken);
        var backend = forced == "container" || engine is not null ? ServerBackend.Container : ServerBackend.Process;
        return (backend, engine);
    }

    private static async Task<ServerBackend> SelectForThisRunAsync()
    {
        var (backend, engine) = await SelectAsync(Environment.GetEnvironmentVariable, ContainerEngine.DefaultSocket, CancellationToken.None);
        if (backend == ServerBackend.Container && engine is { IsPodman: true })
        {
            ContainerEngine.ConfigureTestcontainersForPodman();
        }

        return backend;
    }
}
