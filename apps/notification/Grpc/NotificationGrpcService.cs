using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Notification.Grpc;

/// <summary>The notification API: checks each request's fields, calls the store, maps the answer.</summary>
public sealed class NotificationGrpcService(InboxStore inbox, TimeProvider time) : NotificationService.NotificationServiceBase
{
    [Permission("notification.inbox.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<ListInboxResponse> ListInbox(ListInboxRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var size = InboxRules.PageSize(validator, "page.page_size", request.Page?.PageSize ?? 0);
        var category = InboxRules.Category(validator, "category", request.Category);
        validator.ThrowIfInvalid();
        var (items, next) = await inbox.ListAsync(new InboxFilter(userId, request.UnreadOnly, category), size, request.Page?.PageToken, context.CancellationToken);
        var response = new ListInboxResponse
        {
            Page = new Common.V1.PageResponse { NextPageToken = next },
            UnreadCount = await inbox.UnreadAsync(userId, context.CancellationToken),
        };
        response.Items.AddRange(items.Select(Map));
        return response;
    }

    [Permission("notification.inbox.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<UnreadCount> GetUnreadCount(GetUnreadCountRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        validator.ThrowIfInvalid();
        return new UnreadCount { Unread = await inbox.UnreadAsync(userId, context.CancellationToken) };
    }

    [Permission("notification.inbox.update", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<MarkReadResponse> MarkRead(MarkReadRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var ids = InboxRules.MessageIds(validator, "message_ids", request.MessageIds);
        validator.ThrowIfInvalid();
        var updated = await inbox.MarkAsync(userId, ids, request.Read, context.CancellationToken);
        return new MarkReadResponse { Updated = updated, UnreadCount = await inbox.UnreadAsync(userId, context.CancellationToken) };
    }

    [Permission("notification.inbox.update", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<MarkReadResponse> MarkAllRead(MarkAllReadRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        validator.ThrowIfInvalid();
        var before = request.CreatedBefore?.ToDateTimeOffset() ?? time.GetUtcNow();
        var updated = await inbox.MarkAllReadAsync(userId, before, context.CancellationToken);
        return new MarkReadResponse { Updated = updated, UnreadCount = await inbox.UnreadAsync(userId, context.CancellationToken) };
    }

    private static InboxItem Map(InboxItemView item)
    {
        var mapped = new InboxItem
        {
            MessageId = item.Id.ToString(),
            NotificationKey = item.NotificationKey,
            Category = item.Category,
            Critical = item.Critical,
            Title = item.Title,
            BodyText = item.Text,
            Data = Struct.Parser.ParseJson(item.DataJson),
            CreateTime = Timestamp.FromDateTimeOffset(item.CreatedAt),
        };
        if (item.ReadAt is { } read)
        {
            mapped.ReadTime = Timestamp.FromDateTimeOffset(read);
        }
        return mapped;
    }
}
