using StackExchange.Redis;
using Testcontainers.Redis;

namespace Ovasabi.Testing;

/// <summary>A Redis server for a test run, without persistence: a local redis-server, or a Testcontainers container.</summary>
public sealed class RedisServer : ServerFixture
{
    public const string ImageVariable = "OVASABI_REDIS_IMAGE";
    public const string DefaultImage = "redis:7";

    private readonly ServerBackend? backend;
    private readonly ToolLocator tools;

    public RedisServer()
        : this(null, ToolLocator.Default)
    {
    }

    internal RedisServer(ServerBackend? backend, ToolLocator tools)
    {
        this.backend = backend;
        this.tools = tools;
    }

    /// <summary>"host:port", as StackExchange.Redis and the Dapr redisHost metadata expect.</summary>
    public string Endpoint => $"{Host}:{Port}";

    /// <summary>Removes every key in every database.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RedisProtocol.SendAsync(Host, Port, "FLUSHALL", cancellationToken);
        if (reply != "+OK")
        {
            throw new InvalidOperationException($"FLUSHALL on {Endpoint} answered {reply}");
        }
    }

    // Redis has 16 databases; 0 is every test's default, the rest are handed out once each.
    private int _lastDatabase;

    /// <summary>
    /// A database number no one else on this server uses (1-15), for a platform that must not see the keys and streams
    /// of another one sharing the server (Dapr components take it as <c>redisDB</c>).
    /// </summary>
    public int NewDatabase()
    {
        var number = Interlocked.Increment(ref _lastDatabase);
        return number < 16 ? number : throw new InvalidOperationException($"all 15 spare databases of the Redis server {Endpoint} are in use: give the platform a server of its own");
    }

    /// <summary>A new multiplexer to this server; the caller disposes it.</summary>
    public async Task<IConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(Endpoint);

    private protected override async Task<IServerInstance> LaunchAsync(CancellationToken cancellationToken) =>
        await BackendSelection.ResolveAsync(backend) == ServerBackend.Container
            ? await LaunchContainerAsync(cancellationToken)
            : await LaunchProcessAsync(cancellationToken);

    private static async Task<IServerInstance> LaunchContainerAsync(CancellationToken cancellationToken)
    {
        var container = new RedisBuilder(ContainerServer.Image(ImageVariable, DefaultImage))
            .WithPortBinding(FreePort.Next(), RedisBuilder.RedisPort)
            .Build();
        return await ContainerServer.LaunchAsync(container, RedisBuilder.RedisPort, cancellationToken);
    }

    private async Task<IServerInstance> LaunchProcessAsync(CancellationToken cancellationToken)
    {
        var redisServer = tools.RedisServer();
        return await LocalServer.LaunchAsync("redis", (directory, port, _) => Task.FromResult(new LocalServerDefinition(
            new ProcessCommand(
                redisServer,
                ["--port", $"{port}", "--bind", Loopback.Address, "--save", "", "--appendonly", "no", "--dir", directory]),
            ready => RedisProtocol.AnswersPingAsync(Loopback.Address, port, ready))),
            cancellationToken);
    }
}
