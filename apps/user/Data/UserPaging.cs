using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.Domain;
using Ovasabi.User.V1;

namespace Ovasabi.User.Data;

/// <summary>
/// Keyset paging for ListUsers: filters and ordering from the request, and the position after the previous page from
/// its tamper-proof page token. Stable under inserts (no offsets) and ties (the user ID breaks them).
/// </summary>
public sealed class UserPaging(byte[] tokenKey)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    private static readonly string[] Orders = ["create_time desc", "create_time", "username", "username desc"];

    public static UserPaging FromConfiguration(IConfiguration configuration) => new(PageToken.KeyFrom(configuration, "user"));

    public Page Read(ListUsersRequest request, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        var size = request.Page?.PageSize ?? 0;
        validator.Check("page.page_size", size is >= 0 and <= MaxPageSize, $"must be between 1 and {MaxPageSize} (0 for the default of {DefaultPageSize})");
        var order = string.IsNullOrWhiteSpace(request.OrderBy) ? Orders[0] : string.Join(' ', request.OrderBy.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));
        validator.Check("order_by", Orders.Contains(order), $"must be one of: {string.Join(", ", Orders)}");
        validator.Check("role", string.IsNullOrEmpty(request.Role) || Roles.IsKnown(request.Role), "is not a known role");
        validator.Check("status", request.Status is UserStatus.Unspecified or UserStatus.Active or UserStatus.Suspended, "is not a known status");
        validator.ThrowIfInvalid();

        var fingerprint = PageToken.Fingerprint(request.Status.ToString(), request.Role, request.CreatedAfter?.ToString(), request.CreatedBefore?.ToString());
        PageCursor? cursor = null;
        if (!string.IsNullOrEmpty(request.Page?.PageToken))
        {
            cursor = PageToken.Decode(request.Page.PageToken, tokenKey, order, fingerprint)
                ?? throw new InvalidArgumentException("page.page_token", "is invalid, or belongs to another filter or ordering");
        }
        return new Page(request, order, size == 0 ? DefaultPageSize : size, cursor, fingerprint, tokenKey);
    }

    public sealed class Page(ListUsersRequest request, string order, int size, PageCursor? cursor, string fingerprint, byte[] tokenKey)
    {
        public int Size { get; } = size;

        /// <summary>The filtered, ordered users after the cursor: one more than a page, to tell whether another follows.</summary>
        public IQueryable<UserRecord> Query(IQueryable<UserRecord> users)
        {
            if (request.Status != UserStatus.Unspecified)
            {
                var state = request.Status == UserStatus.Suspended ? UserState.Suspended : UserState.Active;
                users = users.Where(u => u.State == state);
            }
            if (!string.IsNullOrEmpty(request.Role))
            {
                users = users.Where(u => u.Roles.Any(r => r.Role == request.Role));
            }
            if (request.CreatedAfter is { } after)
            {
                var from = after.ToDateTimeOffset();
                users = users.Where(u => u.Master.CreatedAt > from);
            }
            if (request.CreatedBefore is { } before)
            {
                var to = before.ToDateTimeOffset();
                users = users.Where(u => u.Master.CreatedAt < to);
            }
            users = (order, cursor) switch
            {
                ("create_time desc", null) => users.OrderByDescending(u => u.Master.CreatedAt).ThenByDescending(u => u.Master.Uuid),
                ("create_time desc", _) => users.Where(u => EF.Functions.LessThan(ValueTuple.Create(u.Master.CreatedAt, u.Master.Uuid), ValueTuple.Create(Time(cursor.LastSortValue), cursor.LastId)))
                    .OrderByDescending(u => u.Master.CreatedAt).ThenByDescending(u => u.Master.Uuid),
                ("create_time", null) => users.OrderBy(u => u.Master.CreatedAt).ThenBy(u => u.Master.Uuid),
                ("create_time", _) => users.Where(u => EF.Functions.GreaterThan(ValueTuple.Create(u.Master.CreatedAt, u.Master.Uuid), ValueTuple.Create(Time(cursor.LastSortValue), cursor.LastId)))
                    .OrderBy(u => u.Master.CreatedAt).ThenBy(u => u.Master.Uuid),
                ("username desc", null) => users.OrderByDescending(u => u.UsernameKey).ThenByDescending(u => u.Master.Uuid),
                ("username desc", _) => users.Where(u => EF.Functions.LessThan(ValueTuple.Create(u.UsernameKey, u.Master.Uuid), ValueTuple.Create(cursor.LastSortValue, cursor.LastId)))
                    .OrderByDescending(u => u.UsernameKey).ThenByDescending(u => u.Master.Uuid),
                (_, null) => users.OrderBy(u => u.UsernameKey).ThenBy(u => u.Master.Uuid),
                _ => users.Where(u => EF.Functions.GreaterThan(ValueTuple.Create(u.UsernameKey, u.Master.Uuid), ValueTuple.Create(cursor.LastSortValue, cursor.LastId)))
                    .OrderBy(u => u.UsernameKey).ThenBy(u => u.Master.Uuid),
            };
            return users.Take(Size + 1);
        }

        /// <summary>The token for the page after <paramref name="fetched"/> (the query's result), or empty on the last page.</summary>
        public string NextToken(IReadOnlyList<UserRecord> fetched)
        {
            if (fetched.Count <= Size)
            {
                return "";
            }
            var last = fetched[Size - 1];
            var sortValue = order.StartsWith("create_time", StringComparison.Ordinal)
                ? last.Master.CreatedAt.ToString("O", CultureInfo.InvariantCulture)
                : last.UsernameKey;
            return PageToken.Encode(new PageCursor(order, sortValue, last.Master.Uuid, fingerprint), tokenKey);
        }

        private static DateTimeOffset Time(string value) =>
            DateTimeOffset.ParseExact(value, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
    }
}
