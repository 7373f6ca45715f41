using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Bench;

/// <summary>
/// The finance platform (user, auth and finance apps with dev sidecars) on PostgreSQL and Redis servers of its own, as
/// the finance tests' shared platform; disposing it stops every process it started.
/// </summary>
internal sealed class BenchPlatform() : FinancePlatform(new PostgresServer(), new RedisServer())
{
    protected override async Task StartAsync()
    {
        // Owned first, so they go last, after the apps and sidecars that use them.
        Own(Postgres);
        Own(Redis);
        await Task.WhenAll(Postgres.InitializeAsync().AsTask(), Redis.InitializeAsync().AsTask());
        await base.StartAsync();
    }
}
