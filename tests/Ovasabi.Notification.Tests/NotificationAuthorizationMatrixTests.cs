using Ovasabi.Notification.V1;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Platform.AuthorizationMatrix;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// Every RPC of the notification service called by every kind of caller through the sidecars (see <see cref="AuthorizationMatrix"/>):
/// users read and mark their own inbox, set their own preferences and see their webhook endpoints, support reads
/// anyone's, administrators do everything (Send and webhook endpoints are theirs alone), anyone may follow an unsubscribe link, and no app may call
/// notification (protos/ovasabi/access.yaml grants none: it learns of everything through events).
/// </summary>
public sealed class NotificationAuthorizationMatrixTests(NotificationPlatform platform)
{
    private static Func<MatrixCaller, string, Task> Notification(Func<NotificationService.NotificationServiceClient, string, Task> call) =>
        (caller, target) => call(new NotificationService.NotificationServiceClient(caller.To("notification")), target);

    private static readonly Row[] Rows =
    [
        //                                                                                                  anon user own support admin | app: user auth finance notification
        new("ovasabi.notification.v1.NotificationService/Send", Notification((c, t) => c.SendAsync(new SendRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(), NotificationKey = "platform.announcement", UserIds = { t },
            Data = new Google.Protobuf.WellKnownTypes.Struct { Fields = { ["title"] = Google.Protobuf.WellKnownTypes.Value.ForString("t"), ["body"] = Google.Protobuf.WellKnownTypes.Value.ForString("b") } },
        }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/ListInbox", Notification((c, t) => c.ListInboxAsync(new ListInboxRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/GetUnreadCount", Notification((c, t) => c.GetUnreadCountAsync(new GetUnreadCountRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/MarkRead", Notification((c, t) => c.MarkReadAsync(new MarkReadRequest { UserId = t, MessageIds = { Guid.NewGuid().ToString() } }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/MarkAllRead", Notification((c, t) => c.MarkAllReadAsync(new MarkAllReadRequest { UserId = t }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/GetPreferences", Notification((c, t) => c.GetPreferencesAsync(new GetPreferencesRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/UpdatePreferences", Notification((c, t) => c.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            UserId = t, Preferences = new NotificationPreferences(), UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "global_mute" } },
        }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/GetMessage", Notification((c, t) => c.GetMessageAsync(new GetMessageRequest { UserId = t, MessageId = Guid.NewGuid().ToString() }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/ListMessages", Notification((c, t) => c.ListMessagesAsync(new ListMessagesRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/ListFailedMessages", Notification((c, _) => c.ListFailedMessagesAsync(new ListFailedMessagesRequest()).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/ResendMessage", Notification((c, _) => c.ResendMessageAsync(new ResendMessageRequest { MessageId = Guid.NewGuid().ToString() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/CancelMessage", Notification((c, _) => c.CancelMessageAsync(new CancelMessageRequest { MessageId = Guid.NewGuid().ToString() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/CreateWebhookEndpoint", Notification((c, t) => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = t, Binding = "webhook", Path = "/matrix" }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/ListWebhookEndpoints", Notification((c, t) => c.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/RotateWebhookSecret", Notification((c, t) => c.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { UserId = t, EndpointId = Guid.NewGuid().ToString() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/DeleteWebhookEndpoint", Notification((c, t) => c.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { UserId = t, EndpointId = Guid.NewGuid().ToString() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/GetTemplate", Notification((c, _) => c.GetTemplateAsync(new GetTemplateRequest { NotificationKey = "platform.announcement", Channel = Channel.Email, Locale = "en" }).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/PutTemplate", Notification((c, _) => c.PutTemplateAsync(new PutTemplateRequest { NotificationKey = "platform.announcement", Channel = Channel.InApp, Locale = "en", Title = "{{ oops" }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/ListTemplateVersions", Notification((c, _) => c.ListTemplateVersionsAsync(new ListTemplateVersionsRequest { NotificationKey = "platform.announcement", Channel = Channel.Email, Locale = "en" }).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.notification.v1.NotificationService/PreviewTemplate", Notification((c, _) => c.PreviewTemplateAsync(new PreviewTemplateRequest { NotificationKey = "platform.announcement", Channel = Channel.InApp, Locale = "en" }).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        // The link's token is the credential: anyone may present one (this one is refused as invalid, past the door).
        new("ovasabi.notification.v1.NotificationService/Unsubscribe", Notification((c, _) => c.UnsubscribeAsync(new UnsubscribeRequest { Token = "u1.e30.AAAA" }).ResponseAsync), [A, A, A, A, A, D, D, D, D]),
    ];

    [Fact]
    public void The_matrix_lists_every_RPC_of_the_notification_service_with_one_outcome_per_caller() =>
        CoversEveryMethod(Rows, NotificationService.Descriptor);

    [Fact]
    public Task Every_RPC_allows_or_denies_each_kind_of_caller_as_the_table_says() => VerifyAsync(platform, Rows);
}
