[assembly: AssemblyFixture(typeof(Ovasabi.Testing.PostgresServer))]
[assembly: AssemblyFixture(typeof(Ovasabi.Testing.RedisServer))]
