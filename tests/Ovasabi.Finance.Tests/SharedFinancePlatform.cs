using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Finance.Tests;

/// <summary>
/// The finance platform most test classes share, on PostgreSQL and Redis servers of its own. Each test works with
/// users it creates, so classes run side by side; those that stop servers keep platforms of their own.
/// </summary>
public sealed class SharedFinancePlatform() : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true);
