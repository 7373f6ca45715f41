using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Notification.Grpc;

/// <summary>The notification API: checks each request's fields, calls the store, maps the answer.</summary>
public sealed partial class NotificationGrpcService(InboxStore inbox, SendStore sender, PreferenceStore preferences, UnsubscribeLinks links,
    MessageStore messages, WebhookStore webhooks, TemplateCatalog templates, TemplateStore templateVersions, Recipients recipients, IOptions<NotificationOptions> options, TimeProvider time)
    : NotificationService.NotificationServiceBase
{
    [Permission("notification.messages.send")]
    public override async Task<SendResponse> Send(SendRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var key = SendRules.IdempotencyKey(validator, "idempotency_key", request.IdempotencyKey);
        var users = SendRules.Recipients(validator, "user_ids", request.UserIds);
        var due = SendRules.Due(validator, "send_at", validator.Time("send_at", request.SendAt), time.GetUtcNow());
        var digest = SendRules.Digest(validator, "digest_key", request.DigestKey, "digest_window", validator.Duration("digest_window", request.DigestWindow));
        validator.Required("notification_key", request.NotificationKey);
        validator.ThrowIfInvalid();
        if (!templates.Keys.Contains(request.NotificationKey))
        {
            throw new NotFoundException("notification", request.NotificationKey);
        }
        if (!SendRules.Sendable.TryGetValue(request.NotificationKey, out var category))
        {
            throw new FailedPreconditionException($"notification '{ErrorText.Quote(request.NotificationKey)}' comes only from the platform's events; Send sends {string.Join(", ", SendRules.Sendable.Keys)}",
                "NOTIFICATION_NOT_SENDABLE");
        }
        var data = request.Data ?? new Struct();
        SendRules.Data(validator, "data", data.Fields.Keys.ToHashSet(StringComparer.Ordinal), templates.Variables(request.NotificationKey));
        validator.ThrowIfInvalid();

        var to = new List<(Notice, Addressee)>();
        // In one order for every call: two Sends to the same users lock their limits and digests without a deadlock.
        foreach (var user in users.Order())
        {
            var person = await recipients.FindAsync(user, context.CancellationToken) ?? throw new NotFoundException("user", user.ToString());
            to.Add((new Notice(request.NotificationKey, category, user, $"send:{context.GetCaller().Actor}:{key}", TemplateData(data)) { Digest = digest }, person.To));
        }
        var envelope = new RequestEnvelope(context.GetCaller().Actor, key, Idempotency.Fingerprint(context.Method, request.ToByteArray()), null);
        var (messages, replayed) = await sender.SendAsync(envelope, to, due, context.CancellationToken);
        var response = new SendResponse { Replayed = replayed };
        response.Messages.AddRange(messages.Select(m => new MessageSummary
        {
            MessageId = m.Id.ToString(),
            UserId = m.UserId.ToString(),
            Channel = ChannelNames.ToProto(m.Channel),
            Status = StatusNames.ToProto(m.Status),
            DueTime = Timestamp.FromDateTimeOffset(m.DueAt),
            StatusReason = m.Reason ?? "",
        }));
        return response;
    }

    /// <summary>The request's data as the template reads it: nested objects and lists, strings, numbers, booleans.</summary>
    private static Dictionary<string, object?> TemplateData(Struct data) => data.Fields.ToDictionary(f => f.Key, f => Plain(f.Value), StringComparer.Ordinal);

    private static object? Plain(Value value) => value.KindCase switch
    {
        Value.KindOneofCase.StructValue => TemplateData(value.StructValue),
        Value.KindOneofCase.ListValue => value.ListValue.Values.Select(Plain).ToList(),
        Value.KindOneofCase.StringValue => value.StringValue,
        Value.KindOneofCase.NumberValue => value.NumberValue,
        Value.KindOneofCase.BoolValue => value.BoolValue,
        _ => null,
    };

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
        var before = validator.Time("created_before", request.CreatedBefore) ?? time.GetUtcNow();
        validator.ThrowIfInvalid();
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
