using System.Net.Sockets;
using StackExchange.Redis;

namespace Ovasabi.Testing.Tests;

public sealed class RedisServerTests(RedisServer redis)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_ping_and_round_trips_a_value()
    {
        await using var connection = await redis.ConnectAsync();
        var db = connection.GetDatabase();

        var pong = (string?)await db.ExecuteAsync("PING");
        await db.StringSetAsync("greeting", "hello");

        Assert.Equal("PONG", pong);
        Assert.Equal("hello", (string?)await db.StringGetAsync("greeting"));
        Assert.Equal($"127.0.0.1:{redis.Port}", redis.Endpoint);
    }

    [Fact]
    public async Task FlushAsync_removes_every_key()
    {
        await using var connection = await redis.ConnectAsync();
        var db = connection.GetDatabase();
        await db.StringSetAsync("flush-me", "1");

        await redis.FlushAsync(Cancellation);

        Assert.False(await db.KeyExistsAsync("flush-me"));
    }

    [Fact]
    public async Task Stop_then_start_serves_again_on_the_same_port()
    {
        await using var server = new RedisServer();
        await server.InitializeAsync();
        var port = server.Port;

        await server.StopAsync(Cancellation);
        await Assert.ThrowsAsync<SocketException>(() => ConnectTcpAsync(server));
        await server.StartAsync(Cancellation);

        await using var connection = await server.ConnectAsync();
        Assert.Equal(port, server.Port);
        Assert.Equal("PONG", (string?)await connection.GetDatabase().ExecuteAsync("PING"));
    }

    // A plain socket: a Redis client would wait out its connect timeout before failing.
    private static async Task ConnectTcpAsync(RedisServer server)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, Cancellation);
    }
}
