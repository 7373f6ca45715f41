using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Contracts;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>Optimistic concurrency: expected_version guards every versioned change, and racing writers never lose an update.</summary>
public sealed class UserConcurrencyTests(SharedUserPlatform platform)
{
    private const int Writers = 10;

    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task UpdateUser_SuspendUser_and_ReactivateUser_with_a_stale_expected_version_are_FailedPrecondition_and_change_nothing()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var current = await Users.UpdateUserAsync(DisplayName(created.UserId, 1, "first"), cancellationToken: Cancel);

        var update = await FailsAsync(StatusCode.FailedPrecondition, () => Users.UpdateUserAsync(DisplayName(created.UserId, 1, "stale"), cancellationToken: Cancel));
        var ahead = await FailsAsync(StatusCode.FailedPrecondition, () => Users.UpdateUserAsync(DisplayName(created.UserId, 3, "from the future"), cancellationToken: Cancel));
        var suspend = await FailsAsync(StatusCode.FailedPrecondition, () => Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, ExpectedVersion = 1 }, cancellationToken: Cancel));
        await Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, ExpectedVersion = 2 }, cancellationToken: Cancel);
        var reactivate = await FailsAsync(StatusCode.FailedPrecondition, () => Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = created.UserId, ExpectedVersion = 2 }, cancellationToken: Cancel));

        Assert.All(new[] { update, ahead, suspend, reactivate }, e => Assert.Equal("VERSION_CONFLICT", Reason(e)));
        var stored = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.Equal(("first", 3L, UserStatus.Suspended), (stored.Profile.DisplayName, stored.Audit.Version, stored.Status));
        Assert.Equal(current.Audit.CreateTime, stored.Audit.CreateTime);
    }

    [Fact]
    public async Task Parallel_UpdateUser_calls_with_the_same_expected_version_let_exactly_one_win_and_store_its_value()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(async i =>
        {
            try
            {
                var user = await Users.UpdateUserAsync(DisplayName(created.UserId, 1, $"writer {i}"), cancellationToken: Cancel);
                return (Name: $"writer {i}", Code: StatusCode.OK, User: user);
            }
            catch (RpcException e)
            {
                return (Name: $"writer {i}", Code: e.StatusCode, User: (V1.User?)null);
            }
        }));

        var winners = outcomes.Where(o => o.Code == StatusCode.OK).ToList();
        Assert.Single(winners);
        Assert.All(outcomes.Where(o => o.Code != StatusCode.OK), o => Assert.Contains(o.Code, new[] { StatusCode.FailedPrecondition, StatusCode.Aborted }));
        var stored = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.Equal(2, stored.Audit.Version);
        Assert.Equal(winners[0].Name, stored.Profile.DisplayName);
        Assert.Equal(winners[0].User, stored);
        // Only the winner's change was announced.
        var events = await platform.EventsAsync(TopicName.Of(UserTopic.UserUpdated), created.UserId, timeout: EventTimeout);
        var settled = await platform.Subscriber.SettleAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(UserTopic.UserUpdated) && r.Event.Data.ToStringUtf8().Contains(created.UserId, StringComparison.Ordinal), Settle);
        Assert.Single(settled);
        Assert.Equal(2, UserUpdated.Parser.ParseJson(events[0].Event.Data.ToStringUtf8()).Version);
        Assert.Single(await platform.OutboxRowsAsync(created.UserId), r => r.Topic == TopicName.Of(UserTopic.UserUpdated));
    }

    [Fact]
    public async Task Parallel_writers_that_each_retry_on_conflict_all_get_their_change_in_with_one_version_each()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var writers = Enumerable.Range(0, 8).Select(i => $"k{i}").ToList();

        await Task.WhenAll(writers.Select(async key =>
        {
            for (var attempt = 0; ; attempt++)
            {
                Assert.True(attempt < 100, $"{key} never got through");
                var current = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
                var fields = current.Profile.CustomFields.Clone();
                fields.Fields[key] = Value.ForBool(true);
                try
                {
                    await Users.UpdateUserAsync(new UpdateUserRequest
                    {
                        UserId = created.UserId,
                        ExpectedVersion = current.Audit.Version,
                        User = new V1.User { Profile = new Profile { CustomFields = fields } },
                        UpdateMask = new FieldMask { Paths = { "profile.custom_fields" } },
                    }, cancellationToken: Cancel);
                    return;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Aborted)
                {
                    // Someone else got in first: read again and retry, as a client should.
                }
            }
        }));

        var stored = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.Equal(writers, stored.Profile.CustomFields.Fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1 + writers.Count, stored.Audit.Version);
    }

    [Fact]
    public async Task Parallel_role_changes_without_a_version_never_fail_with_Internal_and_leave_a_consistent_role_set()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(async i =>
        {
            try
            {
                await Users.AssignRoleAsync(new AssignRoleRequest { UserId = created.UserId, Role = i % 2 == 0 ? "support" : "admin" }, cancellationToken: Cancel);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));

        Assert.All(outcomes, c => Assert.Contains(c, new[] { StatusCode.OK, StatusCode.Aborted }));
        var roles = await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = created.UserId }, cancellationToken: Cancel);
        var expected = new List<string> { "user" };
        if (outcomes.Where((_, i) => i % 2 == 1).Any(c => c == StatusCode.OK))
        {
            expected.Add("admin");
        }
        if (outcomes.Where((_, i) => i % 2 == 0).Any(c => c == StatusCode.OK))
        {
            expected.Add("support");
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), roles.Roles);
        var stored = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.Equal(expected.Count, stored.Audit.Version);
    }

    [Fact]
    public async Task Parallel_SetPreferences_calls_for_one_category_leave_exactly_one_callers_values_never_a_mix()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        string[] keys = ["email", "sms", "push", "in_app"];

        // A mix needs the last writers to overlap, so a few rounds.
        for (var round = 0; round < 5; round++)
        {
            // Each writer sets a different key, so a mix of two writers' maps shows as two keys.
            var requests = Enumerable.Range(0, keys.Length).Select(i => new SetPreferencesRequest
            {
                UserId = created.UserId,
                Category = "notifications",
                Values = { [keys[i]] = round % 2 == 0 ? "true" : "false" },
            }).ToList();

            var outcomes = await Task.WhenAll(requests.Select(async request =>
            {
                try
                {
                    await Users.SetPreferencesAsync(request, cancellationToken: Cancel);
                    return StatusCode.OK;
                }
                catch (RpcException e)
                {
                    return e.StatusCode;
                }
            }));

            Assert.All(outcomes, c => Assert.Contains(c, new[] { StatusCode.OK, StatusCode.Aborted }));
            var stored = await Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = created.UserId, Category = "notifications" }, cancellationToken: Cancel);
            var values = stored.Categories["notifications"].Values;
            Assert.True(requests.Where((_, i) => outcomes[i] == StatusCode.OK).Any(r => r.Values.Count == values.Count && r.Values.All(kv => values.TryGetValue(kv.Key, out var v) && v == kv.Value)),
                $"round {round}: stored [{string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value}"))}] is no caller's map");
        }
    }

    private static UpdateUserRequest DisplayName(string userId, long expectedVersion, string name) => new()
    {
        UserId = userId,
        ExpectedVersion = expectedVersion,
        User = new V1.User { Profile = new Profile { DisplayName = name } },
        UpdateMask = new FieldMask { Paths = { "profile.display_name" } },
    };
}
