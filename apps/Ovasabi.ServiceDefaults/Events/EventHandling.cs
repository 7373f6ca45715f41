using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Ovasabi.ServiceDefaults.Events;

/// <summary>The CloudEvent envelope of a delivered event.</summary>
public sealed record EventContext(string Id, string Topic, string Source, string Type);

/// <summary>
/// Handles one event type. It runs inside the inbox transaction on the request's scoped DbContext: what it saves
/// commits together with the record that the event was handled, so a redelivery is recognised and skipped.
/// Throw a ServiceException for an event that can never be handled (it is dropped and logged); other failures retry.
/// </summary>
public interface IEventHandler<in TEvent> where TEvent : IMessage
{
    Task HandleAsync(TEvent message, EventContext context, CancellationToken cancellationToken);
}

/// <summary>A topic this app subscribes to, with the message type and handler that serve it.</summary>
public sealed record EventSubscription(
    string Topic,
    Google.Protobuf.Reflection.MessageDescriptor Descriptor,
    Func<IServiceProvider, IMessage, EventContext, CancellationToken, Task> Handle,
    string? DeadLetterTopic);

public static class EventHandlingExtensions
{
    /// <summary>Subscribes the app to <paramref name="topic"/> on the service's pub/sub, handled by <typeparamref name="THandler"/>.</summary>
    public static IServiceCollection AddEventHandler<TEvent, THandler>(this IServiceCollection services, string topic, string? deadLetterTopic = null)
        where TEvent : class, IMessage<TEvent>, new()
        where THandler : class, IEventHandler<TEvent>
    {
        services.AddScoped<THandler>();
        services.AddSingleton(new EventSubscription(topic, new TEvent().Descriptor,
            (provider, message, context, ct) => provider.GetRequiredService<THandler>().HandleAsync((TEvent)message, context, ct),
            deadLetterTopic));
        return services;
    }
}
