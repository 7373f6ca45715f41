using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.Domain;

namespace Ovasabi.User.Data;

/// <summary>
/// Keyset paging for ListUsers: filters and ordering from the request, and the position after the previous page from
/// its tamper-proof page token. Stable under inserts (no offsets) and ties (the user ID breaks them).
/// </summary>
/// <summary>Which users a listing shows and in what order; a null state shows active and suspended ones.</summary>
public sealed record UserFilter(UserState? State, string Role, DateTimeOffset? CreatedAfter, DateTimeOffset? CreatedBefore, string OrderBy, int PageSize, string? PageToken);

public sealed class UserPaging(byte[] tokenKey)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    private static readonly string[] Orders = ["create_time desc", "create_time", "username", "username desc"];

    public static UserPaging FromConfiguration(IConfiguration configuration) => new(PageToken.KeyFrom(configuration, "user"));

    /// <summary>The page <paramref name="filter"/> asks for; problems are recorded on <paramref name="validator"/>, which it throws.</summary>
    public Page Read(UserFilter filter, Validator validator)
    {
        validator.Check("page.page_size", filter.PageSize is >= 0 and <= MaxPageSize, $"must be between 1 and {MaxPageSize} (0 for the default of {DefaultPageSize})");
        var order = string.IsNullOrWhiteSpace(filter.OrderBy) ? Orders[0] : string.Join(' ', filter.OrderBy.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));
        validator.Check("order_by", Orders.Contains(order), $"must be one of: {string.Join(", ", Orders)}");
        validator.Check("role", string.IsNullOrEmpty(filter.Role) || Roles.IsKnown(filter.Role), "is not a known role");
        validator.ThrowIfInvalid();

        var fingerprint = PageToken.Fingerprint(filter.State?.ToString() ?? "", filter.Role, filter.CreatedAfter?.ToString("O"), filter.CreatedBefore?.ToString("O"));
        PageCursor? cursor = null;
        if (!string.IsNullOrEmpty(filter.PageToken))
        {
            cursor = PageToken.Decode(filter.PageToken, tokenKey, order, fingerprint)
                ?? throw new InvalidArgumentException("page.page_token", "is invalid, or belongs to another filter or ordering");
        }
        return new Page(filter, order, filter.PageSize == 0 ? DefaultPageSize : filter.PageSize, cursor, fingerprint, tokenKey);
    }

    public sealed class Page(UserFilter request, string order, int size, PageCursor? cursor, string fingerprint, byte[] tokenKey)
    {
        public int Size { get; } = size;

        /// <summary>The filtered, ordered users after the cursor: one more than a page, to tell whether another follows.</summary>
        public IQueryable<UserRecord> Query(IQueryable<UserRecord> users)
        {
            if (request.State is { } state)
            {
                users = users.Where(u => u.State == state);
            }
            if (!string.IsNullOrEmpty(request.Role))
            {
                users = users.Where(u => u.Roles.Any(r => r.Role == request.Role));
            }
            if (request.CreatedAfter is { } from)
            {
                users = users.Where(u => u.Master.CreatedAt > from);
            }
            if (request.CreatedBefore is { } to)
            {
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
