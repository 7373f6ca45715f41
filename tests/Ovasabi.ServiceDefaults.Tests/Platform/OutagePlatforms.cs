using Ovasabi.Testing;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>A probe platform whose PostgreSQL server is its own, so a test may stop it.</summary>
public sealed class DatabaseOutagePlatform(PostgresServer postgres, RedisServer redis) : ProbePlatform(postgres, redis)
{
    private PostgresServer? _own;

    public PostgresServer OwnPostgres => _own ?? throw new InvalidOperationException("not started");

    protected override PostgresServer Database => OwnPostgres;

    protected override async Task StartServersAsync() => _own = await OwnServerAsync(new PostgresServer());
}

/// <summary>A probe platform whose state store runs on a Redis server of its own, so a test may stop it.</summary>
public sealed class CacheOutagePlatform(PostgresServer postgres, RedisServer redis) : ProbePlatform(postgres, redis)
{
    private RedisServer? _own;

    public RedisServer OwnRedis => _own ?? throw new InvalidOperationException("not started");

    protected override RedisServer StateRedis => OwnRedis;

    protected override async Task StartServersAsync() => _own = await OwnServerAsync(new RedisServer());
}
