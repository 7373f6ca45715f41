using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Jobs;
using Ovasabi.ServiceDefaults.Telemetry;
using EventStatus = Dapr.AppCallback.Autogen.Grpc.v1.TopicEventResponse.Types.TopicEventResponseStatus;

namespace Ovasabi.ServiceDefaults.Events;

/// <summary>
/// Dapr's AppCallback service for an app that runs with app-protocol grpc: lists the topics of the registered event
/// handlers and delivers each event through the inbox. SUCCESS once handled (or already handled: a duplicate),
/// DROP for a message that can never be handled (unparseable payload, a domain error; logged), RETRY otherwise.
/// Jobs API triggers go to the <see cref="JobDispatcher"/>.
/// </summary>
public sealed class EventCallbackService<TDb>(
    IEnumerable<EventSubscription> subscriptions,
    IServiceScopeFactory scopes,
    ServiceOptions options,
    ServiceMetrics metrics,
    JobDispatcher jobs,
    TimeProvider time,
    ILogger<EventCallbackService<TDb>> logger) : AppCallback.AppCallbackBase where TDb : ServiceDbContext
{
    private readonly Dictionary<string, EventSubscription> _byTopic = subscriptions.ToDictionary(s => s.Topic, StringComparer.Ordinal);

    public override Task<ListTopicSubscriptionsResponse> ListTopicSubscriptions(Empty request, ServerCallContext context)
    {
        var response = new ListTopicSubscriptionsResponse();
        response.Subscriptions.AddRange(_byTopic.Values.Select(s => new TopicSubscription
        {
            PubsubName = options.PubSubName,
            Topic = s.Topic,
            DeadLetterTopic = s.DeadLetterTopic ?? "",
        }));
        return Task.FromResult(response);
    }

    public override async Task<TopicEventResponse> OnTopicEvent(TopicEventRequest request, ServerCallContext context)
    {
        var status = await HandleAsync(request, context.CancellationToken);
        metrics.Consumed(request.Topic, status.Outcome);
        return new TopicEventResponse { Status = status.Status };
    }

    public override Task<JobEventResponse> OnJobEvent(JobEventRequest request, ServerCallContext context) =>
        jobs.DispatchAsync(request, context.CancellationToken);

    private async Task<(EventStatus Status, string Outcome)> HandleAsync(TopicEventRequest request, CancellationToken cancellationToken)
    {
        if (!_byTopic.TryGetValue(request.Topic, out var subscription))
        {
            logger.LogError("Event {Id} on topic {Topic} has no handler; dropped", request.Id, request.Topic);
            return (EventStatus.Drop, "drop");
        }
        if (request.Id.Length is 0 or > ProcessedMessage.MaxIdLength)
        {
            // Without a usable id the event cannot be de-duplicated; retrying would never change that.
            logger.LogError("Event on {Topic} has an id of {Length} characters (1 to {Max} allowed); dropped", request.Topic, request.Id.Length, ProcessedMessage.MaxIdLength);
            return (EventStatus.Drop, "drop");
        }
        IMessage message;
        try
        {
            message = JsonParser.Default.Parse(request.Data.ToStringUtf8(), subscription.Descriptor);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            logger.LogError("Event {Id} on {Topic} is not a valid {Type}; dropped: {Reason}", request.Id, request.Topic, subscription.Descriptor.FullName, e.Message);
            return (EventStatus.Drop, "drop");
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDb>();
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await db.ProcessedMessages.AnyAsync(m => m.MessageId == request.Id && m.Consumer == request.Topic, cancellationToken))
            {
                return (EventStatus.Success, "duplicate");
            }
            db.ProcessedMessages.Add(new ProcessedMessage { MessageId = request.Id, Consumer = request.Topic, ProcessedAt = time.GetUtcNow() });
            await subscription.Handle(scope.ServiceProvider, message, new EventContext(request.Id, request.Topic, request.Source, request.Type), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (EventStatus.Success, "success");
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } unique
                                          && unique.TableName == "processed_message")
        {
            // The same event, delivered twice at once: the other delivery handled it.
            return (EventStatus.Success, "duplicate");
        }
        catch (ServiceException e)
        {
            logger.LogError("Event {Id} on {Topic} cannot be handled ({Code}); dropped: {Reason}", request.Id, request.Topic, e.Code, e.Message);
            return (EventStatus.Drop, "drop");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Event {Id} on {Topic} failed; asking for a retry", request.Id, request.Topic);
            return (EventStatus.Retry, "retry");
        }
    }
}
