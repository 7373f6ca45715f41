namespace Ovasabi.Notification.Domain;

/// <summary>The names the message table stores for channels.</summary>
public static class Channels
{
    public const string Email = "email", Sms = "sms", Webhook = "webhook", InApp = "in_app";
}

/// <summary>The names the message table stores for statuses (issue 14's delivery states).</summary>
public static class MessageStatuses
{
    public const string Scheduled = "scheduled", Sending = "sending", Sent = "sent", Failed = "failed", Throttled = "throttled",
        Suppressed = "suppressed", Read = "read", Digested = "digested", Canceled = "canceled";
}

/// <summary>Who moved a message to a status, as its history records it.</summary>
public static class HistoryActors
{
    public const string Admission = "admission", Dispatcher = "dispatcher";
}
