using Ovasabi.ServiceDefaults.Grpc;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// ListUsers: filters, every ordering and keyset paging. Each test lists only the users it created, by a created-time
/// window around them (the classes of its platform run one after another, so nobody else creates users inside the window).
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class UserListingTests(SoloPlatform platform)
{
    private UserService.UserServiceClient Users => platform.Users;

    public static TheoryData<string> Orders => ["", "create_time", "create_time desc", "username", "username desc", "  Username   DESC "];

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task ListUsers_pages_through_every_user_in_the_requested_order_without_duplicates_or_gaps(string orderBy)
    {
        var (created, window) = await CreateUsersAsync(8);

        var pages = await ListAllAsync(new ListUsersRequest { OrderBy = orderBy, CreatedAfter = window.After, CreatedBefore = window.Before }, pageSize: 3);

        Assert.Equal([3, 3, 2], pages.Select(p => p.Count));
        var listed = pages.SelectMany(p => p).ToList();
        var expected = Sorted(created, orderBy).Select(u => u.UserId);
        Assert.Equal(expected, listed.Select(u => u.UserId));
    }

    [Fact]
    public async Task ListUsers_keeps_its_place_when_users_are_created_or_deleted_between_pages()
    {
        var (created, window) = await CreateUsersAsync(6);
        var request = new ListUsersRequest { OrderBy = "create_time", CreatedAfter = window.After, Page = new PageRequest { PageSize = 3 } };

        var first = await Users.ListUsersAsync(request, cancellationToken: Cancel);
        // A user of the first page goes, and a new one arrives (after the window's end, which this request has none of).
        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = first.Users[0].UserId }, cancellationToken: Cancel);
        var late = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        request.Page.PageToken = first.Page.NextPageToken;
        var second = await Users.ListUsersAsync(request, cancellationToken: Cancel);
        request.Page.PageToken = second.Page.NextPageToken;
        var third = await Users.ListUsersAsync(request, cancellationToken: Cancel);

        Assert.Equal(created.Take(3).Select(u => u.UserId), first.Users.Select(u => u.UserId));
        Assert.Equal(created.Skip(3).Select(u => u.UserId), second.Users.Select(u => u.UserId));
        Assert.Equal([late.UserId], third.Users.Select(u => u.UserId));
        Assert.Equal("", third.Page.NextPageToken);
    }

    [Fact]
    public async Task ListUsers_filters_by_status_role_and_created_range_and_leaves_deleted_users_out()
    {
        var (created, window) = await CreateUsersAsync(6);
        await Users.SuspendUserAsync(new SuspendUserRequest { UserId = created[1].UserId, Reason = "test" }, cancellationToken: Cancel);
        await Users.SuspendUserAsync(new SuspendUserRequest { UserId = created[4].UserId }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = created[1].UserId, Role = "support" }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = created[2].UserId, Role = "support" }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = created[5].UserId, Role = "support" }, cancellationToken: Cancel);
        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created[5].UserId }, cancellationToken: Cancel);

        var all = await ListIdsAsync(new ListUsersRequest { CreatedAfter = window.After, CreatedBefore = window.Before, OrderBy = "create_time" });
        var suspended = await ListIdsAsync(new ListUsersRequest { Status = UserStatus.Suspended, CreatedAfter = window.After, CreatedBefore = window.Before, OrderBy = "create_time" });
        var active = await ListIdsAsync(new ListUsersRequest { Status = UserStatus.Active, CreatedAfter = window.After, CreatedBefore = window.Before, OrderBy = "create_time" });
        var support = await ListIdsAsync(new ListUsersRequest { Role = "support", CreatedAfter = window.After, CreatedBefore = window.Before, OrderBy = "create_time" });
        var suspendedSupport = await ListIdsAsync(new ListUsersRequest { Role = "support", Status = UserStatus.Suspended, CreatedAfter = window.After, CreatedBefore = window.Before });
        // The created range is exclusive at both ends.
        var inner = await ListIdsAsync(new ListUsersRequest { CreatedAfter = created[0].Audit.CreateTime, CreatedBefore = created[3].Audit.CreateTime, OrderBy = "create_time" });

        string[] Ids(params int[] indexes) => [.. indexes.Select(i => created[i].UserId)];
        Assert.Equal(Ids(0, 1, 2, 3, 4), all);
        Assert.Equal(Ids(1, 4), suspended);
        Assert.Equal(Ids(0, 2, 3), active);
        Assert.Equal(Ids(1, 2), support);
        Assert.Equal(Ids(1), suspendedSupport);
        Assert.Equal(Ids(1, 2), inner);
    }

    [Fact]
    public async Task ListUsers_without_a_page_size_returns_at_most_20_users_and_a_token_for_the_rest()
    {
        var (created, window) = await CreateUsersAsync(21);

        var first = await Users.ListUsersAsync(new ListUsersRequest { CreatedAfter = window.After, CreatedBefore = window.Before }, cancellationToken: Cancel);
        var rest = await Users.ListUsersAsync(new ListUsersRequest
        {
            CreatedAfter = window.After,
            CreatedBefore = window.Before,
            Page = new PageRequest { PageToken = first.Page.NextPageToken },
        }, cancellationToken: Cancel);

        Assert.Equal(20, first.Users.Count);
        Assert.NotEqual("", first.Page.NextPageToken);
        Assert.Equal([created[0].UserId], rest.Users.Select(u => u.UserId));
        Assert.Equal("", rest.Page.NextPageToken);
    }

    [Fact]
    public async Task ListUsers_refuses_a_tampered_page_token_and_one_made_for_another_filter_or_order_naming_page_token()
    {
        var (_, window) = await CreateUsersAsync(3);
        var request = new ListUsersRequest { CreatedAfter = window.After, OrderBy = "username", Page = new PageRequest { PageSize = 1 } };
        var token = (await Users.ListUsersAsync(request, cancellationToken: Cancel)).Page.NextPageToken;
        Assert.NotEqual("", token);

        var flipped = token[..^3] + (token[^3] == 'A' ? 'B' : 'A') + token[^2..];
        string[] tampered = [flipped, token[..^1], token + "A", "not a token", new string('A', 4000)];
        foreach (var bad in tampered)
        {
            var altered = request.Clone();
            altered.Page.PageToken = bad;
            await InvalidAsync("page.page_token", () => Users.ListUsersAsync(altered, cancellationToken: Cancel));
        }
        var otherOrder = request.Clone();
        otherOrder.OrderBy = "username desc";
        otherOrder.Page.PageToken = token;
        await InvalidAsync("page.page_token", () => Users.ListUsersAsync(otherOrder, cancellationToken: Cancel));
        var otherFilter = request.Clone();
        otherFilter.Role = "user";
        otherFilter.Page.PageToken = token;
        await InvalidAsync("page.page_token", () => Users.ListUsersAsync(otherFilter, cancellationToken: Cancel));
        // Only the page size may change between pages.
        var biggerPage = request.Clone();
        biggerPage.Page = new PageRequest { PageSize = 5, PageToken = token };
        Assert.Equal(2, (await Users.ListUsersAsync(biggerPage, cancellationToken: Cancel)).Users.Count);
    }

    /// <summary>Creates users one after another, returning them oldest first and a window holding exactly them.</summary>
    private async Task<(List<V1.User> Users, (Timestamp After, Timestamp Before) Window)> CreateUsersAsync(int count)
    {
        var users = new List<V1.User>();
        for (var i = 0; i < count; i++)
        {
            // Usernames in an order unrelated to creation, with mixed case, so each ordering is a different permutation.
            var request = UserPlatform.NewUser($"{(char)('a' + (i * 5 % count))}{(i % 2 == 0 ? "X" : "x")}{UserApiTests.Suffix()}");
            users.Add(await Users.CreateUserAsync(request, cancellationToken: Cancel));
        }
        // Read back, for the stored create times.
        var stored = new List<V1.User>();
        foreach (var user in users)
        {
            stored.Add(await Users.GetUserAsync(new GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel));
        }
        var after = Timestamp.FromDateTimeOffset(stored[0].Audit.CreateTime.ToDateTimeOffset().AddMilliseconds(-1));
        var before = Timestamp.FromDateTimeOffset(stored[^1].Audit.CreateTime.ToDateTimeOffset().AddMilliseconds(1));
        return (stored, (after, before));
    }

    private async Task<List<List<V1.User>>> ListAllAsync(ListUsersRequest request, int pageSize)
    {
        var pages = new List<List<V1.User>>();
        request.Page = new PageRequest { PageSize = pageSize };
        while (true)
        {
            var response = await Users.ListUsersAsync(request, cancellationToken: Cancel);
            pages.Add([.. response.Users]);
            if (response.Page.NextPageToken == "")
            {
                return pages;
            }
            Assert.True(pages.Count < 50, "paging does not end");
            request.Page.PageToken = response.Page.NextPageToken;
        }
    }

    private async Task<List<string>> ListIdsAsync(ListUsersRequest request) =>
        [.. (await ListAllAsync(request, pageSize: 2)).SelectMany(p => p).Select(u => u.UserId)];

    private static IEnumerable<V1.User> Sorted(IEnumerable<V1.User> users, string orderBy)
    {
        var byTime = (Func<V1.User, DateTimeOffset>)(u => u.Audit.CreateTime.ToDateTimeOffset());
        var byName = (Func<V1.User, string>)(u => u.Username.ToLowerInvariant());
        return string.Join(' ', orderBy.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries)) switch
        {
            "create_time" => users.OrderBy(byTime),
            "username" => users.OrderBy(byName, StringComparer.Ordinal),
            "username desc" => users.OrderByDescending(byName, StringComparer.Ordinal),
            _ => users.OrderByDescending(byTime),
        };
    }
}
