using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.Domain;
using Ovasabi.User.Grpc;

namespace Ovasabi.User.Data;

/// <summary>
/// How users are read: live users (not deleted) by ID, username or email, pages and searches of them, their roles and
/// preferences. A profile by ID is served cache-aside (<c>user:user:&lt;id&gt;:profile</c>, 15 minutes), in the
/// contract's form, as it is answered.
/// </summary>
public sealed class UserQueries(UserDbContext db, StateCache cache, UserAccounts accounts, UserPaging paging)
{
    private static readonly TimeSpan ProfileTtl = TimeSpan.FromMinutes(15);

    /// <summary>
    /// A live user by ID. <paramref name="useCache"/> false reads the database: another app reads roles and status to
    /// decide what a user may do, and cache entries are not authenticated.
    /// </summary>
    public async Task<V1.User?> ByIdAsync(Guid id, bool useCache, CancellationToken cancellationToken)
    {
        Func<CancellationToken, Task<V1.User?>> load = async ct => (await FindAsync(u => u.Master.Uuid == id, ct))?.ToProto();
        return useCache ? await cache.GetOrLoadAsync(UserAccounts.Entity, accounts.ProfileKey(id), ProfileTtl, load, cancellationToken) : await load(cancellationToken);
    }

    public async Task<V1.User?> ByUsernameAsync(string username, CancellationToken cancellationToken)
    {
        var key = Usernames.Canonical(username);
        return (await FindAsync(u => u.UsernameKey == key, cancellationToken))?.ToProto();
    }

    public async Task<V1.User?> ByEmailAsync(string email, CancellationToken cancellationToken)
    {
        var key = Emails.Canonical(email);
        return (await FindAsync(u => u.EmailKey == key, cancellationToken))?.ToProto();
    }

    /// <summary>A live user's record (with roles), or null.</summary>
    public Task<UserRecord?> FindAsync(Guid id, CancellationToken cancellationToken) => FindAsync(u => u.Master.Uuid == id, cancellationToken);

    /// <summary>A page of live users and the next page's token ("" after the last); a bad filter is InvalidArgument.</summary>
    public async Task<(IReadOnlyList<UserRecord> Users, string NextPageToken)> ListAsync(UserFilter filter, Validator validator, CancellationToken cancellationToken)
    {
        var page = paging.Read(filter, validator);
        var users = await page.Query(db.Users.Include(u => u.Master).Include(u => u.Roles).AsNoTracking().Where(u => u.State != UserState.Deleted))
            .ToListAsync(cancellationToken);
        return (users.Take(page.Size).ToList(), page.NextToken(users));
    }

    /// <summary>Live users whose username or display name starts with <paramref name="prefix"/>, by username.</summary>
    public async Task<IReadOnlyList<UserRecord>> SearchAsync(string prefix, int limit, CancellationToken cancellationToken)
    {
        var pattern = EscapeLike(Usernames.Canonical(prefix)) + "%";
        return await db.Users.Include(u => u.Master).Include(u => u.Roles).AsNoTracking()
            .Where(u => u.State != UserState.Deleted
                        && (EF.Functions.Like(u.UsernameKey, pattern) || (u.DisplayName != null && EF.Functions.ILike(u.DisplayName, pattern))))
            .OrderBy(u => u.UsernameKey)
            .Take(limit)
            .ToListAsync(cancellationToken);
    }

    /// <summary>The user's preferences of <paramref name="category"/> ("" for every category), by category and key.</summary>
    public async Task<IReadOnlyDictionary<string, Dictionary<string, string>>> PreferencesAsync(UserRecord user, string category, CancellationToken cancellationToken)
    {
        var rows = await db.Preferences.AsNoTracking()
            .Where(p => p.UserId == user.Id && (category == "" || p.Category == category))
            .ToListAsync(cancellationToken);
        return rows.GroupBy(p => p.Category).ToDictionary(group => group.Key, group => group.ToDictionary(p => p.Key, p => p.Value));
    }

    private Task<UserRecord?> FindAsync(Expression<Func<UserRecord, bool>> match, CancellationToken cancellationToken) =>
        db.Users.Include(u => u.Master).Include(u => u.Roles).AsNoTracking()
            .Where(u => u.State != UserState.Deleted)
            .FirstOrDefaultAsync(match, cancellationToken);

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
