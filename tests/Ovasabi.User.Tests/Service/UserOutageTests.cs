using Ovasabi.Testing.Platform;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Contracts;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// A user platform on PostgreSQL and Redis servers of its own, which its tests may stop, restart or start more user
/// apps on (the shared platform's they may not). Its classes share it one after another (<see cref="OwnServersCollection"/>),
/// each leaving it serving as it found it.
/// </summary>
public sealed class OwnServersPlatform : UserPlatform
{
    /// <summary>The environment variables that configure a bootstrap administrator.</summary>
    public static Dictionary<string, string?> BootstrapSettings(string? username, string? email, string? password) => new()
    {
        ["User__BootstrapAdmin__Username"] = username,
        ["User__BootstrapAdmin__Email"] = email,
        ["User__BootstrapAdmin__Password"] = password,
    };

    /// <summary>The user app's environment with other bootstrap settings (null: not set at all), for another instance of the app.</summary>
    public Dictionary<string, string?> AppEnvironmentWith(Dictionary<string, string?> settings)
    {
        var environment = AppEnvironment();
        foreach (var (name, value) in settings)
        {
            if (value is null)
            {
                environment.Remove(name);
            }
            else
            {
                environment[name] = value;
            }
        }
        return environment;
    }
}

/// <summary>The classes that stop the servers, the sidecar or the app: one platform, one class at a time.</summary>
[CollectionDefinition(Name)]
public sealed class OwnServersCollection : ICollectionFixture<OwnServersPlatform>
{
    public const string Name = "own servers";
}

/// <summary>
/// The outbox when the user app's sidecar or the broker is down: the app keeps serving, nothing is published or lost,
/// and once the way is clear every change is published with its outbox row's id as CloudEvent id.
/// </summary>
[Collection(OwnServersCollection.Name)]
public sealed class UserOutageTests(OwnServersPlatform platform)
{
    [Fact]
    public async Task Changes_made_while_the_sidecar_is_down_are_published_exactly_once_when_a_sidecar_returns()
    {
        var existing = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await platform.EventsAsync(TopicName.Of(UserTopic.UserCreated), existing.UserId, timeout: EventTimeout);

        await platform.UserSidecar.StopAsync();
        V1.User created;
        try
        {
            created = await platform.DirectUsers.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
            await platform.DirectUsers.UpdateUserAsync(new UpdateUserRequest
            {
                UserId = existing.UserId,
                ExpectedVersion = 1,
                User = new V1.User { Profile = new Profile { DisplayName = "Changed While Offline" } },
                UpdateMask = new FieldMask { Paths = { "profile.display_name" } },
            }, cancellationToken: Cancel);
            await platform.DirectUsers.AssignRoleAsync(new AssignRoleRequest { UserId = existing.UserId, Role = "support" }, cancellationToken: Cancel);

            var early = await platform.Subscriber.SettleAsync(r => r.Kind == "event" && (About(r.Event, created.UserId) || (About(r.Event, existing.UserId) && r.Event.Topic != TopicName.Of(UserTopic.UserCreated))), Settle);
            Assert.Empty(early);
            Assert.All(await platform.OutboxRowsAsync(created.UserId), r => Assert.False(r.Published));
        }
        finally
        {
            await platform.StartSidecarAgainAsync(AppPlatform.UserAppId);
        }

        await platform.EventsAsync(TopicName.Of(UserTopic.UserCreated), created.UserId, timeout: EventTimeout);
        await platform.EventsAsync(TopicName.Of(UserTopic.UserUpdated), existing.UserId, timeout: EventTimeout);
        await platform.EventsAsync(TopicName.Of(UserTopic.RoleAssigned), existing.UserId, timeout: EventTimeout);
        await AssertPublishedOnceAsync(created.UserId, TopicName.Of(UserTopic.UserCreated));
        await AssertPublishedOnceAsync(existing.UserId, TopicName.Of(UserTopic.UserCreated), TopicName.Of(UserTopic.UserUpdated), TopicName.Of(UserTopic.RoleAssigned));
    }

    [Fact]
    public async Task A_write_while_the_sidecar_is_down_leaves_no_stale_cached_profile_once_it_returns()
    {
        var user = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await platform.Users.GetUserAsync(new GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel);
        Assert.NotNull(await platform.CachedProfileAsync(user.UserId));

        await platform.UserSidecar.StopAsync();
        V1.User updated;
        try
        {
            updated = await platform.DirectUsers.UpdateUserAsync(new UpdateUserRequest
            {
                UserId = user.UserId,
                ExpectedVersion = 1,
                User = new V1.User { Profile = new Profile { Bio = "written while the cache was out of reach" } },
                UpdateMask = new FieldMask { Paths = { "profile.bio" } },
            }, cancellationToken: Cancel);
            // Reads still work, from the database.
            Assert.Equal(updated, await platform.DirectUsers.GetUserAsync(new GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel));
        }
        finally
        {
            await platform.StartSidecarAgainAsync(AppPlatform.UserAppId);
        }

        Assert.Equal(updated, await platform.Users.GetUserAsync(new GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel));
        Assert.Equal(updated, await platform.Users.GetUserAsync(new GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_user_erased_while_the_sidecar_is_down_is_announced_only_as_deleted_never_with_redacted_payloads()
    {
        await platform.UserSidecar.StopAsync();
        V1.User created;
        try
        {
            created = await platform.DirectUsers.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
            await platform.DirectUsers.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, Reason = "fraud" }, cancellationToken: Cancel);
            await platform.DirectUsers.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId, HardDelete = true }, cancellationToken: Cancel);
        }
        finally
        {
            await platform.StartSidecarAgainAsync(AppPlatform.UserAppId);
        }

        var deleted = await platform.EventsAsync(TopicName.Of(UserTopic.UserDeleted), created.UserId, timeout: EventTimeout);
        Assert.True(UserDeleted.Parser.ParseJson(deleted[0].Event.Data.ToStringUtf8()).HardDelete);
        // Whatever else was queued is out by now: the outbox publishes oldest first.
        var settled = (await platform.Subscriber.SettleAsync(r => r.Kind == "event", Settle)).Select(r => $"{r.Event.Topic} {r.Event.Data.ToStringUtf8()}").ToList();
        Assert.DoesNotContain(settled, e => e.Contains("redacted", StringComparison.Ordinal));
        Assert.Equal([TopicName.Of(UserTopic.UserDeleted)], settled.Where(e => e.Contains(created.UserId, StringComparison.Ordinal)).Select(e => e.Split(' ')[0]));
        await EventuallyAsync(() => platform.ScalarAsync<long>("SELECT count(*) FROM service_event WHERE published_at IS NULL"), n => n == 0, what: "unpublished outbox rows");
    }

    [Fact]
    public async Task Changes_made_while_Redis_is_down_are_served_from_the_database_and_published_once_Redis_returns_and_sign_in_is_Unavailable_meanwhile()
    {
        var before = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await platform.EventsAsync(TopicName.Of(UserTopic.UserCreated), before.UserId, timeout: EventTimeout);

        await platform.Redis.StopAsync(Cancel);
        V1.User created;
        V1.User updated;
        try
        {
            created = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
            updated = await platform.Users.UpdateUserAsync(new UpdateUserRequest
            {
                UserId = before.UserId,
                ExpectedVersion = 1,
                User = new V1.User { Profile = new Profile { Locale = "de-AT" } },
                UpdateMask = new FieldMask { Paths = { "profile.locale" } },
            }, cancellationToken: Cancel);
            // No cache: the database answers.
            Assert.Equal(created, await platform.Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
            Assert.Equal(updated, await platform.Users.GetUserAsync(new GetUserRequest { UserId = before.UserId }, cancellationToken: Cancel));
            Assert.Empty(await platform.Subscriber.SettleAsync(r => r.Kind == "event" && About(r.Event, created.UserId), Settle));
            // Signing in needs the session store: the sidecar reports the store's failure, and the platform answers
            // Unavailable (retry later), not Internal (a bug).
            var signIn = await Assert.ThrowsAsync<RpcException>(() => platform.AuthClient().LoginAsync(
                new Auth.V1.LoginRequest { Login = UserPlatform.AdminUsername, Password = UserPlatform.AdminPassword }, cancellationToken: Cancel).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, signIn.StatusCode);
        }
        finally
        {
            await platform.Redis.StartAsync(Cancel);
        }
        // This Redis keeps no data across a restart, so the sessions are gone with it (a real session store persists):
        // the administrator signs in again.
        await platform.SignInAdminAsync();

        await platform.EventsAsync(TopicName.Of(UserTopic.UserCreated), created.UserId, timeout: EventTimeout);
        await platform.EventsAsync(TopicName.Of(UserTopic.UserUpdated), before.UserId, timeout: EventTimeout);
        // A publish the broker took just as it came back may be retried: delivery is at least once, so each row's
        // event must arrive, always under the row's id and with the row's content.
        await AssertPublishedAsync(created.UserId, exactlyOnce: false, TopicName.Of(UserTopic.UserCreated));
        await AssertPublishedAsync(before.UserId, exactlyOnce: false, TopicName.Of(UserTopic.UserCreated), TopicName.Of(UserTopic.UserUpdated));
        Assert.Equal(updated, await platform.Users.GetUserAsync(new GetUserRequest { UserId = before.UserId }, cancellationToken: Cancel));
    }

    private static bool About(Dapr.AppCallback.Autogen.Grpc.v1.TopicEventRequest cloudEvent, string userId) =>
        cloudEvent.Data.ToStringUtf8().Contains(userId, StringComparison.Ordinal);

    private Task AssertPublishedOnceAsync(string userId, params string[] topics) => AssertPublishedAsync(userId, exactlyOnce: true, topics);

    /// <summary>The user's outbox rows are the given topics, all published, and each reached the subscriber under the row's id with the row's payload.</summary>
    private async Task AssertPublishedAsync(string userId, bool exactlyOnce, params string[] topics)
    {
        var rows = await EventuallyAsync(() => platform.OutboxRowsAsync(userId), r => r.Count > 0 && r.All(x => x.Published), what: $"the outbox rows of {userId} published");
        Assert.Equal(topics.Order(), rows.Select(r => r.Topic).Order());
        await platform.Subscriber.SettleAsync(_ => true, Settle);
        var received = platform.AllEvents().Where(e => About(e, userId)).ToList();
        foreach (var row in rows)
        {
            var copies = received.Where(e => e.Id == row.Id.ToString()).ToList();
            if (exactlyOnce)
            {
                Assert.Single(copies);
            }
            else
            {
                Assert.NotEmpty(copies);
            }
            Assert.All(copies, e => Assert.Equal((row.Topic, JsonParser.Default.Parse<Struct>(row.Payload)), (e.Topic, JsonParser.Default.Parse<Struct>(e.Data.ToStringUtf8()))));
        }
        Assert.All(received, e => Assert.Contains(rows, r => r.Id.ToString() == e.Id));
    }
}
