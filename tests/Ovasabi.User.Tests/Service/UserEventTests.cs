using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Contracts;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Every change publishes exactly one event of its topic, through the outbox: the subscriber receives it once, its
/// payload says what changed, and its CloudEvent id is the id of the outbox row it came from.
/// </summary>
public sealed class UserEventTests(SharedUserPlatform platform)
{
    private static readonly Dictionary<string, MessageParser> Payloads = new()
    {
        [TopicName.Of(UserTopic.UserCreated)] = UserCreated.Parser,
        [TopicName.Of(UserTopic.UserUpdated)] = UserUpdated.Parser,
        [TopicName.Of(UserTopic.UserSuspended)] = UserSuspended.Parser,
        [TopicName.Of(UserTopic.UserDeleted)] = UserDeleted.Parser,
        [TopicName.Of(UserTopic.RoleAssigned)] = RoleAssigned.Parser,
        [TopicName.Of(UserTopic.RoleRemoved)] = RoleRemoved.Parser,
        [TopicName.Of(UserTopic.PreferencesUpdated)] = PreferencesUpdated.Parser,
        [TopicName.Of(UserTopic.PasswordChanged)] = PasswordChanged.Parser,
    };

    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task CreateUser_publishes_one_user_created_event_with_the_id_username_and_email()
    {
        var request = UserPlatform.NewUser();
        request.Email = $"Events.{UserApiTests.Suffix()}@Example.com";
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        var (payload, cloudEvent) = await SingleEventAsync<UserCreated>(TopicName.Of(UserTopic.UserCreated), created.UserId);

        Assert.Equal(created.UserId, payload.UserId);
        Assert.Equal(created.Username, payload.Username);
        Assert.Equal(created.Email, payload.Email);
        Assert.InRange(payload.OccurredAt.ToDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Equal(TopicName.Of(UserTopic.UserCreated), cloudEvent.Type);
        Assert.Equal("pubsub", cloudEvent.PubsubName);
        Assert.Equal("application/json", cloudEvent.DataContentType);
    }

    [Fact]
    public async Task Each_kind_of_change_publishes_exactly_one_event_of_its_topic_with_the_right_payload()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var id = created.UserId;
        var request = new UpdateUserRequest
        {
            UserId = id,
            ExpectedVersion = 1,
            User = new V1.User { Email = $"changed.{UserApiTests.Suffix()}@example.com", Profile = new Profile { Bio = "new bio" } },
            UpdateMask = new FieldMask { Paths = { "email", "profile.bio" } },
        };

        await Users.UpdateUserAsync(request, cancellationToken: Cancel);
        await Users.SuspendUserAsync(new SuspendUserRequest { UserId = id, Reason = "too many chargebacks" }, cancellationToken: Cancel);
        await Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = id }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "support" }, cancellationToken: Cancel);
        await Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = id, Role = "support" }, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "privacy", Values = { ["show_email"] = "false" } }, cancellationToken: Cancel);
        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = id }, cancellationToken: Cancel);

        // Created, updated, suspended, updated (reactivated), assigned, removed, preferences, deleted: then nothing more.
        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && About(r.Event, id), 8, EventTimeout);
        var received = (await platform.Subscriber.SettleAsync(r => r.Kind == "event" && About(r.Event, id), Settle)).Select(r => r.Event).ToList();
        T Single<T>(string topic) where T : IMessage<T>, new() =>
            new MessageParser<T>(() => new T()).ParseJson(Assert.Single(received, e => e.Topic == topic).Data.ToStringUtf8());
        var updates = received.Where(e => e.Topic == TopicName.Of(UserTopic.UserUpdated)).Select(e => UserUpdated.Parser.ParseJson(e.Data.ToStringUtf8())).OrderBy(u => u.Version).ToList();
        var suspended = Single<UserSuspended>(TopicName.Of(UserTopic.UserSuspended));
        var assigned = Single<RoleAssigned>(TopicName.Of(UserTopic.RoleAssigned));
        var removed = Single<RoleRemoved>(TopicName.Of(UserTopic.RoleRemoved));
        var preferences = Single<PreferencesUpdated>(TopicName.Of(UserTopic.PreferencesUpdated));
        var deleted = Single<UserDeleted>(TopicName.Of(UserTopic.UserDeleted));
        Assert.Equal(id, Single<UserCreated>(TopicName.Of(UserTopic.UserCreated)).UserId);

        Assert.Equal(2, updates.Count);
        Assert.Equal([2L, 4L], updates.Select(u => u.Version));
        Assert.Equal(["email", "profile.bio"], updates[0].ChangedFields);
        Assert.Equal(["status"], updates[1].ChangedFields);
        Assert.Equal(("too many chargebacks", id), (suspended.Reason, suspended.UserId));
        Assert.Equal(("support", id), (assigned.Role, assigned.UserId));
        Assert.Equal(("support", id), (removed.Role, removed.UserId));
        Assert.Equal(("privacy", id), (preferences.Category, preferences.UserId));
        Assert.Equal((id, false), (deleted.UserId, deleted.HardDelete));
        Assert.Equal(received.Count, received.Select(e => e.Id).Distinct().Count());
        await AssertEventsMatchOutboxAsync(id, expectedRows: 8);
    }

    [Fact]
    public async Task ChangePassword_publishes_a_user_updated_event_naming_the_password_but_never_carrying_it()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        const string newPassword = "a brand new passphrase";

        await Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, CurrentPassword = request.Password, NewPassword = newPassword }, cancellationToken: Cancel);
        var (payload, cloudEvent) = await SingleEventAsync<UserUpdated>(TopicName.Of(UserTopic.UserUpdated), created.UserId);

        Assert.Equal(new[] { "password" }, payload.ChangedFields);
        Assert.Equal(2, payload.Version);
        Assert.DoesNotContain(newPassword, cloudEvent.Data.ToStringUtf8(), StringComparison.Ordinal);
        Assert.DoesNotContain("argon2", cloudEvent.Data.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_failed_writes_and_changes_that_change_nothing_publish_no_event()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var id = created.UserId;
        await SingleEventAsync<UserCreated>(TopicName.Of(UserTopic.UserCreated), id);

        await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);
        await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = id }, cancellationToken: Cancel);
        await Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = id }, cancellationToken: Cancel);
        await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = created.Username, Password = "correct horse battery" }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "user" }, cancellationToken: Cancel);
        await Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = id, Role = "admin" }, cancellationToken: Cancel);
        await Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = id }, cancellationToken: Cancel);
        await FailsAsync(StatusCode.FailedPrecondition, () => Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = id,
            ExpectedVersion = 7,
            User = new V1.User { Profile = new Profile { Bio = "x" } },
            UpdateMask = new FieldMask { Paths = { "profile.bio" } },
        }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.InvalidArgument, () => Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "privacy", Values = { ["x"] = "y" } }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.Unauthenticated, () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = id, CurrentPassword = "wrong password!", NewPassword = "another long password" }, cancellationToken: Cancel));

        var settled = await platform.Subscriber.SettleAsync(r => r.Kind == "event" && r.Event.Data.ToStringUtf8().Contains(id, StringComparison.Ordinal), Settle);
        Assert.Equal([TopicName.Of(UserTopic.UserCreated)], settled.Select(r => r.Event.Topic));
        await AssertEventsMatchOutboxAsync(id, expectedRows: 1);
    }

    [Fact]
    public async Task DeleteUser_hard_publishes_one_user_deleted_event_saying_the_data_was_erased()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await SingleEventAsync<UserCreated>(TopicName.Of(UserTopic.UserCreated), created.UserId);

        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId, HardDelete = true }, cancellationToken: Cancel);
        var (payload, cloudEvent) = await SingleEventAsync<UserDeleted>(TopicName.Of(UserTopic.UserDeleted), created.UserId);

        Assert.True(payload.HardDelete);
        Assert.Equal(created.UserId, payload.UserId);
        var rows = await platform.OutboxRowsAsync(created.UserId);
        Assert.Equal(cloudEvent.Id, Assert.Single(rows).Id.ToString());
    }

    [Fact]
    public async Task Events_name_the_user_by_its_canonical_id_however_the_call_spelt_it()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        var upper = created.UserId.ToUpperInvariant();

        await Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = upper,
            ExpectedVersion = 1,
            User = new V1.User { Profile = new Profile { Bio = "upper" } },
            UpdateMask = new FieldMask { Paths = { "profile.bio" } },
        }, cancellationToken: Cancel);
        await Users.SuspendUserAsync(new SuspendUserRequest { UserId = upper }, cancellationToken: Cancel);
        await Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = upper }, cancellationToken: Cancel);
        await Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = upper, CurrentPassword = request.Password, NewPassword = "upper case id passphrase" }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = upper, Role = "admin" }, cancellationToken: Cancel);
        await Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = upper, Role = "admin" }, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = upper, Category = "privacy", Values = { ["show_email"] = "true" } }, cancellationToken: Cancel);
        // Matched ignoring case, so that events naming the user in another spelling are counted too.
        bool AboutTheUser(Received r) => r.Kind == "event" && r.Event.Data.ToStringUtf8().Contains(created.UserId, StringComparison.OrdinalIgnoreCase);
        // Nine events so far: created, updated (bio, status, password), suspended, password changed, role assigned and
        // removed, preferences. Awaited before the hard delete, which withholds what the outbox has not published yet.
        await platform.Subscriber.WaitForAsync(AboutTheUser, 9, EventTimeout);

        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = upper, HardDelete = true }, cancellationToken: Cancel);

        var received = await platform.Subscriber.WaitForAsync(AboutTheUser, 10, EventTimeout);
        Assert.All(received, r => Assert.Equal(created.UserId, UserIdOf(r.Event)));
    }

    [Fact]
    public async Task Every_event_delivered_so_far_parses_as_its_topics_message_and_no_event_id_came_with_two_contents()
    {
        // Some traffic of its own, in case this test runs first.
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = created.UserId, Role = "admin" }, cancellationToken: Cancel);
        await platform.EventsAsync(TopicName.Of(UserTopic.RoleAssigned), created.UserId, timeout: EventTimeout);

        var events = platform.AllEvents();

        foreach (var cloudEvent in events)
        {
            Assert.True(Payloads.ContainsKey(cloudEvent.Topic), cloudEvent.Topic);
            Assert.False(string.IsNullOrEmpty(UserIdOf(cloudEvent)), cloudEvent.Data.ToStringUtf8());
        }
        Assert.All(events.GroupBy(e => e.Id), g => Assert.Single(g.Select(e => (e.Topic, e.Data.ToStringUtf8())).Distinct()));
    }

    private static bool About(TopicEventRequest cloudEvent, string userId) =>
        cloudEvent.Data.ToStringUtf8().Contains(userId, StringComparison.Ordinal);

    /// <summary>The user_id field of an event's payload, parsed as the message of its topic.</summary>
    private static string UserIdOf(TopicEventRequest cloudEvent)
    {
        var payload = Payloads[cloudEvent.Topic].ParseJson(cloudEvent.Data.ToStringUtf8());
        return (string)payload.Descriptor.FindFieldByName("user_id").Accessor.GetValue(payload);
    }

    private async Task<(T Payload, TopicEventRequest Event)> SingleEventAsync<T>(string topic, string userId) where T : IMessage<T>, new()
    {
        var received = await platform.EventsAsync(topic, userId, timeout: EventTimeout);
        var settled = await platform.Subscriber.SettleAsync(r => r.Kind == "event" && r.Event.Topic == topic && r.Event.Data.ToStringUtf8().Contains(userId, StringComparison.Ordinal), Settle);
        Assert.True(settled.Count == received.Count, $"{topic} for {userId} arrived {settled.Count} times");
        var cloudEvent = received[^1].Event;
        return (new MessageParser<T>(() => new T()).ParseJson(cloudEvent.Data.ToStringUtf8()), cloudEvent);
    }

    /// <summary>
    /// The user's outbox rows are all published, and the subscriber received each exactly once: CloudEvent id = row id,
    /// topic = row topic, data = the row's payload.
    /// </summary>
    private async Task AssertEventsMatchOutboxAsync(string userId, int expectedRows)
    {
        var rows = await EventuallyAsync(() => platform.OutboxRowsAsync(userId), r => r.All(x => x.Published), what: "every outbox row published");
        Assert.Equal(expectedRows, rows.Count);
        var received = platform.AllEvents().Where(e => e.Data.ToStringUtf8().Contains(userId, StringComparison.Ordinal)).ToList();
        Assert.Equal(rows.Select(r => r.Id.ToString()).Order(), received.Select(e => e.Id).Order());
        foreach (var row in rows)
        {
            var cloudEvent = Assert.Single(received, e => e.Id == row.Id.ToString());
            Assert.Equal(row.Topic, cloudEvent.Topic);
            var parser = Payloads[row.Topic];
            Assert.Equal(parser.ParseJson(row.Payload), parser.ParseJson(cloudEvent.Data.ToStringUtf8()));
        }
    }
}
