using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// The cached profile (GetUser by id) in the Dapr state store: filled on a miss, served on a hit, and dropped by every
/// write, so that a read after a write through the API never sees what the write replaced.
/// </summary>
public sealed class UserCacheTests(SharedUserPlatform platform)
{
    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task GetUser_by_id_fills_the_cache_on_a_miss_and_serves_the_cached_profile_on_a_hit()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        Assert.Null(await platform.CachedProfileAsync(created.UserId));

        var first = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        var cached = await platform.CachedProfileAsync(created.UserId);
        Assert.NotNull(cached);
        Assert.Equal(first, JsonParser.Default.Parse<V1.User>(cached));

        // Changed behind the service's back: a hit still answers from the cache, which shows the cache is read.
        await platform.ScalarAsync<int>("UPDATE service_user SET display_name = 'Behind Its Back' WHERE username = @name RETURNING 1", ("name", created.Username));
        var second = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.Equal(first, second);
        // Lookups by username and email are not cached.
        Assert.Equal("Behind Its Back", (await Users.GetUserAsync(new GetUserRequest { Username = created.Username }, cancellationToken: Cancel)).Profile.DisplayName);
    }

    [Fact]
    public async Task GetUser_by_username_or_email_or_an_unknown_id_caches_nothing()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var unknown = Guid.NewGuid().ToString();

        await Users.GetUserAsync(new GetUserRequest { Username = created.Username }, cancellationToken: Cancel);
        await Users.GetUserAsync(new GetUserRequest { Email = created.Email }, cancellationToken: Cancel);
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { UserId = unknown }, cancellationToken: Cancel));

        Assert.Null(await platform.CachedProfileAsync(created.UserId));
        Assert.Null(await platform.CachedProfileAsync(unknown));
    }

    public static TheoryData<string> Writes => ["UpdateUser", "SuspendUser", "ReactivateUser", "AssignRole", "RemoveRole", "ChangePassword", "VerifyCredentials", "DeleteUser", "DeleteUser hard"];

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task A_write_through_the_API_drops_the_cached_profile_and_the_next_read_caches_the_new_one(string write)
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        var id = created.UserId;
        if (write == "ReactivateUser")
        {
            await Users.SuspendUserAsync(new SuspendUserRequest { UserId = id }, cancellationToken: Cancel);
        }
        var before = await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);
        Assert.NotNull(await platform.CachedProfileAsync(id));

        await (write switch
        {
            "UpdateUser" => Users.UpdateUserAsync(new UpdateUserRequest
            {
                UserId = id,
                ExpectedVersion = before.Audit.Version,
                User = new V1.User { Profile = new Profile { DisplayName = "New Name" } },
                UpdateMask = new FieldMask { Paths = { "profile.display_name" } },
            }, cancellationToken: Cancel).ResponseAsync,
            "SuspendUser" => Users.SuspendUserAsync(new SuspendUserRequest { UserId = id }, cancellationToken: Cancel).ResponseAsync,
            "ReactivateUser" => Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = id }, cancellationToken: Cancel).ResponseAsync,
            "AssignRole" => Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "admin" }, cancellationToken: Cancel).ResponseAsync,
            "RemoveRole" => Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = id, Role = "user" }, cancellationToken: Cancel).ResponseAsync,
            "ChangePassword" => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = id, CurrentPassword = request.Password, NewPassword = "the next passphrase" }, cancellationToken: Cancel).ResponseAsync,
            "VerifyCredentials" => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel).ResponseAsync,
            "DeleteUser" => Users.DeleteUserAsync(new DeleteUserRequest { UserId = id }, cancellationToken: Cancel).ResponseAsync,
            "DeleteUser hard" => (Task)Users.DeleteUserAsync(new DeleteUserRequest { UserId = id, HardDelete = true }, cancellationToken: Cancel).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(write), write, null),
        });

        var cachedAfterWrite = await platform.CachedProfileAsync(id);
        Assert.True(cachedAfterWrite is null || JsonParser.Default.Parse<V1.User>(cachedAfterWrite).Audit.Version > before.Audit.Version, $"stale entry after {write}: {cachedAfterWrite}");
        if (write.StartsWith("DeleteUser", StringComparison.Ordinal))
        {
            await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel));
            Assert.Null(await platform.CachedProfileAsync(id));
            return;
        }
        var after = await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);
        Assert.NotEqual(before, after);
        Assert.Equal(after, await Users.GetUserAsync(new GetUserRequest { Username = request.Username }, cancellationToken: Cancel));
        Assert.Equal(after, JsonParser.Default.Parse<V1.User>((await platform.CachedProfileAsync(id))!));
    }

    [Fact]
    public async Task Reads_racing_with_writes_never_leave_the_cache_behind_the_last_write()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var id = created.UserId;
        using var stop = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);
            }
        }).ToList();
        var version = 1L;
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var updated = await Users.UpdateUserAsync(new UpdateUserRequest
                {
                    UserId = id,
                    ExpectedVersion = version,
                    User = new V1.User { Profile = new Profile { Bio = $"bio {i}" } },
                    UpdateMask = new FieldMask { Paths = { "profile.bio" } },
                }, cancellationToken: Cancel);
                version = updated.Audit.Version;
                var read = await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);
                Assert.True(read.Audit.Version >= version, $"read version {read.Audit.Version} after writing version {version}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(readers);
        }
        await Task.Delay(Settle, Cancel);
        Assert.Equal(version, (await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel)).Audit.Version);
    }
}
