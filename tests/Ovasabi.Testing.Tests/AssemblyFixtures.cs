using Ovasabi.Testing;

// One of each server for the whole run; test classes receive them through their constructors.
[assembly: AssemblyFixture(typeof(PostgresServer))]
[assembly: AssemblyFixture(typeof(RedisServer))]
[assembly: AssemblyFixture(typeof(S3Server))]
