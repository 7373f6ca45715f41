using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Notification.Grpc;

/// <summary>The delivery-record RPCs of the notification API: a message with its history, lists, failures, a resend.</summary>
public sealed partial class NotificationGrpcService
{
    [Permission("notification.messages.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<Message> GetMessage(GetMessageRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var id = validator.Id("message_id", request.MessageId);
        validator.ThrowIfInvalid();
        var (message, history) = await messages.GetAsync(userId, id, context.CancellationToken) ?? throw new NotFoundException("message", id.ToString());
        return MapMessage(message, history);
    }

    [Permission("notification.messages.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<ListMessagesResponse> ListMessages(ListMessagesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var size = InboxRules.PageSize(validator, "page.page_size", request.Page?.PageSize ?? 0);
        var category = InboxRules.Category(validator, "category", request.Category);
        var statuses = Named(validator, "statuses", request.Statuses, StatusNames.Stored);
        var channels = Named(validator, "channels", request.Channels, ChannelNames.Stored);
        validator.ThrowIfInvalid();
        var (rows, next) = await messages.ListAsync(new MessageFilter(userId, statuses, channels, category), size, request.Page?.PageToken, context.CancellationToken);
        return Page(rows, next);
    }

    [Permission("notification.messages.list")]
    public override async Task<ListMessagesResponse> ListFailedMessages(ListFailedMessagesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var size = InboxRules.PageSize(validator, "page.page_size", request.Page?.PageSize ?? 0);
        validator.ThrowIfInvalid();
        var (rows, next) = await messages.ListFailedAsync(size, request.Page?.PageToken, context.CancellationToken);
        return Page(rows, next);
    }

    [Permission("notification.messages.resend")]
    public override Task<Message> ResendMessage(ResendMessageRequest request, ServerCallContext context) =>
        ChangeMessageAsync(request.MessageId, messages.ResendAsync, context);

    [Permission("notification.messages.cancel")]
    public override Task<Message> CancelMessage(CancelMessageRequest request, ServerCallContext context) =>
        ChangeMessageAsync(request.MessageId, messages.CancelAsync, context);

    /// <summary>An administrator's change to one message (resend, cancel), made as the caller.</summary>
    private static async Task<Message> ChangeMessageAsync(string messageId,
        Func<Guid, string, CancellationToken, Task<(MessageRecord Message, List<MessageHistoryRecord> History)>> change, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("message_id", messageId);
        validator.ThrowIfInvalid();
        var (message, history) = await change(id, context.GetCaller().Actor, context.CancellationToken);
        return MapMessage(message, history);
    }

    /// <summary>The stored names of the enum values asked for; an unspecified or unknown one is InvalidArgument.</summary>
    private static HashSet<string> Named<T>(Validator validator, string field, IList<T> values, Func<T, string?> stored) where T : struct, System.Enum
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < values.Count; i++)
        {
            if (stored(values[i]) is { } name)
            {
                names.Add(name);
            }
            else
            {
                validator.Add($"{field}[{i}]", "must be a known value, not unspecified");
            }
        }
        return names;
    }

    private static ListMessagesResponse Page(List<MessageRecord> rows, string next)
    {
        var response = new ListMessagesResponse { Page = new Common.V1.PageResponse { NextPageToken = next } };
        response.Messages.AddRange(rows.Select(m => MapMessage(m, null)));
        return response;
    }

    /// <summary>A message; with <paramref name="history"/> its bodies and record too (lists leave them out).</summary>
    private static Message MapMessage(MessageRecord m, List<MessageHistoryRecord>? history)
    {
        var mapped = new Message
        {
            MessageId = m.Uuid.ToString(),
            UserId = m.RecipientUserId?.ToString() ?? "",
            Channel = ChannelNames.ToProto(m.Channel),
            Category = m.Category,
            NotificationKey = m.NotificationKey,
            Critical = m.Critical,
            Status = StatusNames.ToProto(m.Status),
            StatusReason = m.StatusReason ?? "",
            Locale = m.Locale,
            TemplateVersion = m.TemplateVersion,
            CreateTime = Timestamp.FromDateTimeOffset(m.CreatedAt),
            DueTime = Timestamp.FromDateTimeOffset(m.DueAt),
            SentTime = m.SentAt is { } sent ? Timestamp.FromDateTimeOffset(sent) : null,
            ReadTime = m.ReadAt is { } read ? Timestamp.FromDateTimeOffset(read) : null,
            AttemptCount = m.AttemptCount,
        };
        if (history is not null)
        {
            (mapped.Subject, mapped.BodyText, mapped.BodyHtml) = (m.Subject, m.BodyText, m.BodyHtml ?? "");
            mapped.History.AddRange(history.Select(h => new StatusChange
            {
                Status = StatusNames.ToProto(h.Status),
                Reason = h.Reason ?? "",
                Actor = h.Actor,
                Time = Timestamp.FromDateTimeOffset(h.At),
                Attempt = h.Attempt ?? 0,
                Binding = h.Binding ?? "",
                Outcome = h.Outcome ?? "",
                DurationMs = h.DurationMs ?? 0,
            }));
        }
        return mapped;
    }
}
