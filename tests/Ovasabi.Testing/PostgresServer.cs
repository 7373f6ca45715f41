using Npgsql;
using Testcontainers.PostgreSql;

namespace Ovasabi.Testing;

/// <summary>
/// A PostgreSQL 15 server for a test run: a local initdb'd cluster tuned for speed (no fsync), or a Testcontainers
/// container when an engine answers. Each test class takes its own database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresServer : ServerFixture
{
    public const string ImageVariable = "OVASABI_POSTGRES_IMAGE";
    public const string DefaultImage = "postgres:15";
    public const string Superuser = "postgres";
    public const int MaxConnections = 300;

    private const string AdminDatabase = "postgres";

    private readonly ServerBackend? backend;
    private readonly ToolLocator tools;
    private string? password;

    public PostgresServer()
        : this(null, ToolLocator.Default)
    {
    }

    internal PostgresServer(ServerBackend? backend, ToolLocator tools)
    {
        this.backend = backend;
        this.tools = tools;
    }

    /// <summary>Superuser connection to the "postgres" database.</summary>
    public string AdminConnectionString => ConnectionString(Host, Port, password, AdminDatabase);

    /// <summary>Runs a query with one result on a database (straight to PostgreSQL, not through an app).</summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Stops the server and drops this process's idle pooled connections, which would fail on their next use.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await base.StopAsync(cancellationToken);
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Creates an empty database with a unique name (prefix + random suffix) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string namePrefix, CancellationToken cancellationToken = default)
    {
        var name = UniqueName.Create(namePrefix, '_');
        // Unpooled: a pooled connection would outlive a Stop/Start and fail on its next use.
        await using var connection = new NpgsqlConnection(ConnectionString(Host, Port, password, AdminDatabase, pooling: false));
        await connection.OpenAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionString(Host, Port, password, name);
    }

    private protected override async Task<IServerInstance> LaunchAsync(CancellationToken cancellationToken) =>
        await BackendSelection.ResolveAsync(backend) == ServerBackend.Container
            ? await LaunchContainerAsync(cancellationToken)
            : await LaunchProcessAsync(cancellationToken);

    private async Task<IServerInstance> LaunchContainerAsync(CancellationToken cancellationToken)
    {
        var container = new PostgreSqlBuilder(ContainerServer.Image(ImageVariable, DefaultImage))
            .WithPortBinding(FreePort.Next(), PostgreSqlBuilder.PostgreSqlPort)
            .WithCommand("-c", $"max_connections={MaxConnections}")
            .Build();
        password = PostgreSqlBuilder.DefaultPassword;
        return await ContainerServer.LaunchAsync(container, PostgreSqlBuilder.PostgreSqlPort, cancellationToken);
    }

    private async Task<IServerInstance> LaunchProcessAsync(CancellationToken cancellationToken)
    {
        var bin = await tools.PostgresBinDirectoryAsync(cancellationToken);
        return await LocalServer.LaunchAsync(
            "postgres",
            (directory, port, token) =>
            {
                var probe = ConnectionString(Loopback.Address, port, password: null, AdminDatabase, pooling: false);
                return new PostgresCluster(bin, directory).CreateAsync(port, ready => AcceptsConnectionsAsync(probe, ready), token);
            },
            cancellationToken);
    }

    private static string ConnectionString(string host, int port, string? password, string database, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = port,
            Username = Superuser,
            Password = password,
            Database = database,
            Pooling = pooling,
        }.ConnectionString;

    private static async Task<bool> AcceptsConnectionsAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (NpgsqlException)
        {
            // Refused while starting up ("the database system is starting up"), or not listening yet.
            return false;
        }
    }
}
