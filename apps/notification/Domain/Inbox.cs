using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Domain;

/// <summary>An in-app item as its user sees it.</summary>
public sealed record InboxItemView(
    Guid Id, string NotificationKey, string Category, bool Critical, string Title, string Text, string DataJson, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>What a page of the inbox asks for.</summary>
public sealed record InboxFilter(Guid UserId, bool UnreadOnly, string Category)
{
    /// <summary>The values a page token is bound to.</summary>
    public string[] Fingerprint() => [UserId.ToString(), UnreadOnly ? "unread" : "all", Category];
}

/// <summary>The rules of inbox requests.</summary>
public static class InboxRules
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;
    public const int MaxIdsPerCall = 100;

    /// <summary>0 means the default; otherwise 1 to <see cref="MaxPageSize"/>.</summary>
    public static int PageSize(Validator validator, string field, int requested)
    {
        validator.Check(field, requested is >= 0 and <= MaxPageSize, $"must be between 1 and {MaxPageSize} (0 for {DefaultPageSize})");
        return requested == 0 ? DefaultPageSize : requested;
    }

    /// <summary>Empty for every category, else one the service knows.</summary>
    public static string Category(Validator validator, string field, string category)
    {
        validator.Check(field, category.Length == 0 || Domain.Category.Named(category) is not null,
            $"must be one of {string.Join(", ", Domain.Category.All.Select(c => c.Name))}, or empty");
        return category;
    }

    /// <summary>1 to <see cref="MaxIdsPerCall"/> message ids, each a UUID; repeats count once.</summary>
    public static IReadOnlyList<Guid> MessageIds(Validator validator, string field, IReadOnlyList<string> ids)
    {
        validator.Check(field, ids.Count is > 0 and <= MaxIdsPerCall, $"must list 1 to {MaxIdsPerCall} message ids");
        var parsed = new List<Guid>();
        for (var i = 0; i < ids.Count && i < MaxIdsPerCall; i++)
        {
            var id = validator.Id($"{field}[{i}]", ids[i]);
            if (id != Guid.Empty)
            {
                parsed.Add(id);
            }
        }
        return parsed.Distinct().ToList();
    }
}
