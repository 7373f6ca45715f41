using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Finance.Tests;

/// <summary>
/// The finance platform most test classes share, on PostgreSQL and Redis servers of its own. Each test works with
/// users it creates, so classes run side by side; those that stop servers keep platforms of their own.
/// </summary>
public sealed class SharedFinancePlatform() : FinancePlatform(new PostgresServer(), new RedisServer())
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
