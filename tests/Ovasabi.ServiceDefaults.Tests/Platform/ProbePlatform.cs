using Dapr.Client;
using Npgsql;
using Ovasabi.ServiceDefaults.Tests.Probe;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>
/// The probe as an app runs: its own PostgreSQL database, Redis state and pub/sub (with an inbound retry policy, like
/// components/resiliency.yaml), its dev sidecar, and a subscriber app behind its own sidecar that receives the probe's
/// outbox events and the signals dead-lettered by it. Topics and app IDs are unique per fixture, so classes running
/// side by side never see each other's events.
/// </summary>
public class ProbePlatform(PostgresServer postgres, RedisServer redis) : SidecarFixture
{
    /// <summary>The probe's Dapr app ID (the library's service name stays "probe").</summary>
    public string AppId { get; } = UniqueName.Create("probe");

    public ProbeTopics Topics { get; } = new(UniqueName.Create("probe"));

    public string ConnectionString { get; private set; } = "";

    public RestartableSidecar Sidecar { get; private set; } = null!;

    public ProbeHost Probe { get; private set; } = null!;

    /// <summary>Receives the probe's item events and its signal dead letters (SUCCESS).</summary>
    public CallbackApp Subscriber { get; private set; } = null!;

    public SidecarProcess SubscriberSidecar { get; private set; } = null!;

    /// <summary>Publishes through the subscriber's sidecar, as another app would.</summary>
    public DaprClient Publisher { get; private set; } = null!;

    /// <summary>The PostgreSQL server the probe's database lives on.</summary>
    protected virtual PostgresServer Database => postgres;

    /// <summary>The Redis server behind the state store (pub/sub always uses the run's server).</summary>
    protected virtual RedisServer StateRedis => redis;

    /// <summary>Starts servers of the fixture's own (ones a test may stop); none by default.</summary>
    protected virtual Task StartServersAsync() => Task.CompletedTask;

    protected override async Task StartAsync()
    {
        await StartServersAsync();
        ConnectionString = await Database.CreateDatabaseAsync("probe");
        Resources.RedisState("statestore", StateRedis)
            .RedisPubSub("pubsub", redis, new Dictionary<string, string> { ["allowedTopics"] = string.Join(',', Topics.Allowed) })
            .Add("resiliency.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: probe
            spec:
              policies:
                retries:
                  delivery:
                    policy: constant
                    duration: 200ms
                    maxRetries: 5
              targets:
                components:
                  pubsub:
                    inbound:
                      retry: delivery
            """);
        var appPort = FreePort.Next();
        Sidecar = Own(await RestartableSidecar.StartAsync(new SidecarLaunch(AppId, Resources.Directory) { AppPort = appPort }));
        Probe = Own(await ProbeHost.StartAsync(SettingsFor(appPort)));
        await Sidecar.Running.WaitReadyAsync();
        Subscriber = Own(await CallbackApp.StartAsync(UniqueName.Create("probe-events"), app => app
            .Subscribe("pubsub", Topics.ItemCreated)
            .Subscribe("pubsub", Topics.SignalDeadLetter)));
        SubscriberSidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(Subscriber.AppId, Resources.Directory) { AppPort = Subscriber.Port }));
        await SubscriberSidecar.WaitReadyAsync();
        Publisher = ClientOf(SubscriberSidecar);
    }

    /// <summary>Settings of a probe host on this platform's database and sidecar.</summary>
    public ProbeSettings SettingsFor(int grpcPort) =>
        new(ConnectionString, Sidecar.HttpPort, Sidecar.GrpcPort, Topics.Prefix) { GrpcPort = grpcPort };

    /// <summary>Starts a server of the fixture's own, disposed with the fixture (after everything that uses it).</summary>
    protected async Task<T> OwnServerAsync<T>(T server) where T : ServerFixture
    {
        Own(server);
        await server.InitializeAsync();
        return server;
    }

    /// <summary>The item events with this CloudEvent id that reached the subscriber.</summary>
    public Task<IReadOnlyList<Received>> ItemEventsAsync(string eventId, int count = 1) =>
        Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == Topics.ItemCreated && r.Event.Id == eventId, count, TimeSpan.FromSeconds(60));

    /// <summary>The events on <paramref name="topic"/> with this CloudEvent id that reached the subscriber so far.</summary>
    public IReadOnlyList<Received> Seen(string topic, string eventId) =>
        Subscriber.All.Where(r => r.Kind == "event" && r.Event.Topic == topic && r.Event.Id == eventId).ToList();

    /// <summary>A new connection to the probe's database (unpooled: it must not outlive a server restart).</summary>
    public async Task<NpgsqlConnection> ConnectAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>The outbox row of an event, as the database holds it now; null when there is none.</summary>
    public async Task<OutboxRow?> OutboxRowAsync(string eventId)
    {
        await using var connection = await ConnectAsync();
        await using var query = new NpgsqlCommand(
            "SELECT published_at, attempts, last_error, next_attempt_at - now() FROM service_event WHERE id = @id", connection);
        query.Parameters.AddWithValue("id", Guid.Parse(eventId));
        await using var reader = await query.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new OutboxRow(
                reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0),
                reader.GetInt32(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetTimeSpan(3))
            : null;
    }

    /// <summary>A single number from the probe's database.</summary>
    public async Task<long> CountAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await ConnectAsync();
        await using var query = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            query.Parameters.AddWithValue(name, value);
        }
        return Convert.ToInt64(await query.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <param name="NextAttemptIn">How long until the dispatcher tries a set-aside row again (negative once due).</param>
public sealed record OutboxRow(DateTimeOffset? PublishedAt, int Attempts, string? LastError, TimeSpan? NextAttemptIn);
