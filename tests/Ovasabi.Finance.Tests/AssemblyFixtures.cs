[assembly: AssemblyFixture(typeof(Ovasabi.Testing.PostgresServer))]
[assembly: AssemblyFixture(typeof(Ovasabi.Testing.RedisServer))]
[assembly: AssemblyFixture(typeof(Ovasabi.Finance.Tests.SharedFinancePlatform))]
