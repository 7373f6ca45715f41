using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using Ovasabi.Contracts;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using StackExchange.Redis;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// The user and auth apps seen from the user service's tests: <see cref="Users"/> calls the user app through the
/// subscriber's sidecar with dapr-app-id, as another service would, signed in as the bootstrap administrator
/// (authorization itself is covered by the authorization matrix).
/// </summary>
public class UserPlatform : AppPlatform
{
    // Each platform runs on PostgreSQL and Redis servers of its own, started first and stopped last.
    protected UserPlatform()
        : base(new PostgresServer(), new RedisServer(), [UserAppId, AuthAppId], ownsServers: true)
    {
    }

    public string AppId => UserAppId;

    /// <summary>The user service's events only; the auth service's have tests of their own.</summary>
    public override IEnumerable<string> Topics => base.Topics.Where(topic => topic.StartsWith("user.", StringComparison.Ordinal));

    public string ConnectionString => UserDatabase;

    /// <summary>The user API through the subscriber's sidecar, as the administrator.</summary>
    public UserService.UserServiceClient Users => UserClient(Admin.AccessToken);

    /// <summary>The user API on the app's own gRPC port, bypassing every sidecar (for when the user app's sidecar is down).</summary>
    public UserService.UserServiceClient DirectUsers => new(Direct(UserApp, Admin.AccessToken));

    protected override async Task StartAsync()
    {
        await base.StartAsync();
        // The user app fetches the signing keys at its first checked call; done now, tests that stop its sidecar find them.
        await Users.ListRoleCatalogAsync(new Google.Protobuf.WellKnownTypes.Empty());
    }

    /// <summary>The user app's environment (database, migrations, security, bootstrap administrator), for another instance of it.</summary>
    public Dictionary<string, string?> AppEnvironment() => Settings(UserAppId);

    /// <summary>The events of <paramref name="topic"/> about <paramref name="userId"/> that reached the subscriber.</summary>
    public Task<IReadOnlyList<Received>> EventsAsync(string topic, string userId, int count = 1, TimeSpan? timeout = null) =>
        Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == topic && r.Event.Data.ToStringUtf8().Contains(userId, StringComparison.Ordinal), count, timeout);

    /// <summary>Every event the subscriber received so far.</summary>
    public IReadOnlyList<TopicEventRequest> AllEvents() => [.. Subscriber.All.Where(r => r.Kind == "event").Select(r => r.Event)];

    /// <summary>The cached profile of a user as the state store holds it (daprd's HASH <c>appid||key</c>), or null.</summary>
    public async Task<string?> CachedProfileAsync(string userId)
    {
        await using var connection = await Redis.ConnectAsync();
        var value = await connection.GetDatabase(RedisDatabase).HashGetAsync($"{AppId}||user:user:{userId}:profile", "data");
        return value.IsNull ? null : value.ToString();
    }

    /// <summary>
    /// The outbox rows (<c>service_event</c>) about a user, oldest first: those still linked to the user's master row,
    /// and those whose payload names the user ID.
    /// </summary>
    public async Task<IReadOnlyList<OutboxRow>> OutboxRowsAsync(string userId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT e.id, e.event_type, e.payload::text, e.published_at IS NOT NULL, e.master_id " +
            "FROM service_event e LEFT JOIN master m ON m.id = e.master_id " +
            "WHERE e.payload->>'userId' = @id OR m.uuid::text = @id ORDER BY e.occurred_at, e.id", connection);
        command.Parameters.AddWithValue("id", userId);
        var rows = new List<OutboxRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new OutboxRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetInt64(4)));
        }
        return rows;
    }

    /// <summary>Runs a query with one result on the user database (straight to PostgreSQL, not through the app).</summary>
    public Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters) =>
        PostgresServer.ScalarAsync<T>(ConnectionString, sql, parameters);

    public static CreateUserRequest NewUser(string? username = null) => new()
    {
        Username = username ?? "u" + Guid.NewGuid().ToString("N")[..10],
        Email = $"{Guid.NewGuid():N}@example.com",
        Password = "correct horse battery",
    };
}

/// <summary>
/// The user platform most test classes share (an assembly fixture, so they still run side by side): one set of apps and
/// sidecars instead of one per class, on PostgreSQL and Redis servers of its own. Classes that stop or restart parts of
/// the platform, or need to be alone in the database, keep platforms of their own.
/// </summary>
public sealed class SharedUserPlatform : UserPlatform;

/// <summary>
/// A user platform its classes have to themselves, one after another (<see cref="SoloCollection"/>): they list users by
/// a created-time window, need the bootstrap administrator to be the only one, or flood password hashing, which takes
/// 2 at once and queues 8 here so that a flood is sure to overflow it. A flood of sign-ins on two busy cores may keep
/// auth's session writes waiting past its state store timeout (1 s), which rightly answers Unavailable; the flood is
/// about the hashing bound, so that timeout is out of its way here.
/// </summary>
public sealed class SoloPlatform : UserPlatform
{
    protected override void Configure(string appId, Dictionary<string, string?> settings)
    {
        if (appId == UserAppId)
        {
            (settings["User__PasswordHashing__MaxConcurrent"], settings["User__PasswordHashing__MaxQueued"]) = ("2", "8");
        }
        if (appId == AuthAppId)
        {
            settings["Service__StateStoreBreaker__CallTimeout"] = "00:00:10";
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SoloCollection : ICollectionFixture<SoloPlatform>
{
    public const string Name = "solo";
}

/// <summary>One row of the outbox; its id is the CloudEvent id of the event it publishes.</summary>
public sealed record OutboxRow(Guid Id, string Topic, string Payload, bool Published, long? MasterId);

/// <summary>Quick checks that the platform fixture serves: create, read, event.</summary>
public sealed class UserPlatformSmokeTests(SharedUserPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_created_user_is_read_back_by_id_username_and_email_and_announced()
    {
        var request = UserPlatform.NewUser();
        var created = await platform.Users.CreateUserAsync(request, cancellationToken: Cancel);

        var byId = await platform.Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        var byName = await platform.Users.GetUserAsync(new GetUserRequest { Username = request.Username.ToUpperInvariant() }, cancellationToken: Cancel);
        var byEmail = await platform.Users.GetUserAsync(new GetUserRequest { Email = request.Email }, cancellationToken: Cancel);

        Assert.Equal(created.UserId, byId.UserId);
        Assert.Equal(created.UserId, byName.UserId);
        Assert.Equal(created.UserId, byEmail.UserId);
        Assert.Equal(["user"], created.Roles);
        Assert.Equal(1, created.Audit.Version);
        await platform.EventsAsync(TopicName.Of(UserTopic.UserCreated), created.UserId);
    }

    [Fact]
    public async Task An_unknown_user_is_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Users.GetUserAsync(new GetUserRequest { UserId = Guid.NewGuid().ToString() }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }
}
