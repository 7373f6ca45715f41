using Ovasabi.Notification.Data;
using Ovasabi.Notification.Delivery;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Events;
using Ovasabi.Notification.Grpc;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Jobs;
using Ovasabi.User.V1;

namespace Ovasabi.Notification;

public static class NotificationServiceRegistration
{
    /// <summary>What the notification service adds to the shared defaults: its settings, templates, inbox, preferences, triggers, email delivery and the user service client.</summary>
    public static IServiceCollection AddNotificationService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<NotificationOptions>(NotificationOptions.Section, NotificationOptions.Problems);
        services.AddSingleton(TemplateCatalog.LoadEmbedded());
        services.AddSingleton<ParsedTemplates>();
        services.AddScoped<TemplateStore>();
        services.AddScoped<Admission>();
        services.AddScoped<DigestFlusher>();
        services.AddScoped<SendStore>();
        services.AddSingleton(AddressKey.From(configuration));
        services.AddScoped<KnownAddresses>();
        services.AddScoped<PreferenceStore>();
        services.AddSingleton(new UnsubscribeLinks(ServiceKeys.From(configuration, "Notification:UnsubscribeKey", "ovasabi.notification.unsubscribe-key")));
        services.AddSingleton(new MessagePages(PageToken.KeyFrom(configuration, "notification")));
        services.AddScoped<InboxStore>();
        services.AddScoped<MessageStore>();
        services.AddSingleton(new SecretBox(ServiceKeys.From(configuration, "Notification:WebhookSecretKey", "ovasabi.notification.webhook-secret-key")));
        services.AddScoped<WebhookStore>();
        services.AddServiceClient<UserService.UserServiceClient>();
        services.AddSingleton<Recipients>();
        services.AddSingleton<DeliverySignal>();
        services.AddSingleton<WakeScheduler>();
        services.AddJobHandler<Google.Protobuf.WellKnownTypes.Timestamp, WakeHandler>(WakeScheduler.JobPrefix);
        services.AddSingleton<ProviderBreakers>();
        services.AddSingleton<MimeMailer>();
        services.AddSingleton<BindingRates>();
        services.AddHostedService<Dispatcher>();
        services.AddEventHandler<Ovasabi.User.V1.Events.UserCreated, TriggerHandlers>(TriggerHandlers.UserCreatedTopic);
        services.AddEventHandler<Ovasabi.Finance.V1.Events.MovementCompleted, TriggerHandlers>(TriggerHandlers.DepositCompletedTopic);
        services.AddEventHandler<Ovasabi.Finance.V1.Events.MovementCompleted, TriggerHandlers>(TriggerHandlers.TransferCompletedTopic);
        services.AddEventHandler<Ovasabi.Finance.V1.Events.BalanceLow, TriggerHandlers>(TriggerHandlers.BalanceLowTopic);
        services.AddEventHandler<Ovasabi.User.V1.Events.PasswordChanged, TriggerHandlers>(TriggerHandlers.PasswordChangedTopic);
        services.AddEventHandler<Ovasabi.Auth.V1.Events.LoginSucceeded, TriggerHandlers>(TriggerHandlers.LoginSucceededTopic);
        return services;
    }
}
