using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Bench;

/// <summary>
/// The finance platform (user, auth and finance apps with dev sidecars) on PostgreSQL and Redis servers of its own, as
/// the finance tests' shared platform; disposing it stops every process it started.
/// </summary>
internal sealed class BenchPlatform() : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true);
