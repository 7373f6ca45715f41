using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Dapr.Client;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Probe;

/// <summary>The topics one probe host publishes and consumes; unique per platform, so parallel test classes never share a stream.</summary>
public sealed record ProbeTopics(string Prefix)
{
    public string ItemCreated => $"{Prefix}.item.created";

    public string Signal => $"{Prefix}.signal.sent";

    public string SignalDeadLetter => $"{Prefix}.signal.dead";

    public string Note => $"{Prefix}.note.posted";

    /// <summary>A topic the platform's pub/sub does not allow (allowedTopics), so the broker refuses its events.</summary>
    public string Refused => $"{Prefix}.item.refused";

    /// <summary>A topic nobody subscribes to, for events a test only counts.</summary>
    public string Counted => $"{Prefix}.item.counted";

    /// <summary>Every topic but <see cref="Refused"/>.</summary>
    public IReadOnlyList<string> Allowed => [ItemCreated, Signal, SignalDeadLetter, Note, Counted];
}

/// <summary>
/// How often the cache loader ran, per item, and cues that order a load against a write without sleeping (singleton, so
/// tests see them across calls).
/// </summary>
public sealed class ItemLoads
{
    private readonly ConcurrentDictionary<string, int> _loads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _loaded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _renamed = new(StringComparer.Ordinal);

    public int Increment(string itemId) => _loads.AddOrUpdate(itemId, 1, (_, n) => n + 1);

    public int Of(string itemId) => _loads.GetValueOrDefault(itemId);

    public void MarkLoaded(string itemId) => Cue(_loaded, itemId).TrySetResult();

    public Task Loaded(string itemId, CancellationToken ct) => Cue(_loaded, itemId).Task.WaitAsync(ct);

    public void MarkRenamed(string itemId) => Cue(_renamed, itemId).TrySetResult();

    public Task Renamed(string itemId, CancellationToken ct) => Cue(_renamed, itemId).Task.WaitAsync(ct);

    private static TaskCompletionSource Cue(ConcurrentDictionary<string, TaskCompletionSource> cues, string itemId) =>
        cues.GetOrAdd(itemId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>The probe's API: each RPC uses one thing the library gives an app, the way an app uses it.</summary>
public sealed class ProbeService(ProbeDbContext db, StateCache cache, ItemLoads loads, ProbeTopics topics, DaprClient dapr, ServiceOptions options)
    : V1.Probe.ProbeBase
{
    public const string Entity = "item";

    [Anonymous]
    public override Task<Empty> Fail(FailRequest request, ServerCallContext context) => request.Kind switch
    {
        "invalid_argument" => throw new InvalidArgumentException("name", "is required"),
        "not_found" => throw new NotFoundException(Entity, "42"),
        "already_exists" => throw new AlreadyExistsException("item.name", "the name is taken"),
        "failed_precondition" => throw new FailedPreconditionException("the item is archived", "ITEM_ARCHIVED"),
        "version_conflict" => throw new VersionConflictException(Entity, 3, 4),
        "permission_denied" => throw new PermissionDeniedException("only owners may do that"),
        "unauthenticated" => throw new UnauthenticatedException("sign in first"),
        "resource_exhausted" => throw new ResourceExhaustedException("too many items"),
        "rpc" => throw new RpcException(new Status(StatusCode.DataLoss, "the probe lost data on purpose")),
        "unexpected" => throw new InvalidOperationException("Host=db.internal;Password=hunter2 at Probe.SecretPath()"),
        _ => throw new ArgumentException($"unknown kind '{request.Kind}'"),
    };

    [Anonymous]
    public override Task<Empty> Validate(ValidateRequest request, ServerCallContext context)
    {
        var validator = new Validator()
            .Required("name", request.Name)
            .MaxLength("name", request.Name, 10)
            .Required("email", request.Email)
            .Check("count", request.Count > 0, "must be positive");
        validator.Id("id", request.Id);
        validator.ThrowIfInvalid();
        return Task.FromResult(new Empty());
    }

    [Anonymous]
    public override async Task<V1.Item> CreateItem(CreateItemRequest request, ServerCallContext context)
    {
        new Validator().Required("name", request.Name).MaxLength("name", request.Name, 64).ThrowIfInvalid();
        var master = new MasterRecord { Type = Entity, Name = request.Name };
        var item = new ProbeItem { Master = master, Name = request.Name };
        db.Items.Add(item);
        var topic = string.IsNullOrEmpty(request.Topic) ? topics.ItemCreated : request.Topic;
        var row = db.AddEvent(topic, new ItemCreated { ItemId = master.Uuid.ToString(), Name = request.Name }, master);
        if (request.FailBeforeCommit)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
            await db.SaveChangesAsync(context.CancellationToken);
            throw new FailedPreconditionException("asked to fail before committing", "FAILED_BEFORE_COMMIT");
        }
        try
        {
            await db.SaveChangesAsync(context.CancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new AlreadyExistsException("name", $"an item named {request.Name} exists");
        }
        return ToProto(item, row.Id.ToString());
    }

    [Anonymous]
    public override async Task<V1.Item> RenameItem(RenameItemRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("item_id", request.ItemId);
        validator.Required("name", request.Name).ThrowIfInvalid();
        var item = await db.Items.Include(i => i.Master).SingleOrDefaultAsync(i => i.Master.Uuid == id, context.CancellationToken)
                   ?? throw new NotFoundException(Entity, request.ItemId);
        // The version the caller read is the one the update must find (a concurrent writer makes EF throw).
        db.Entry(item.Master).Property(m => m.Version).OriginalValue = request.ReadVersion;
        item.Master.Version = request.ReadVersion + 1;
        item.Master.Name = item.Name = request.Name;
        await db.SaveChangesAsync(context.CancellationToken);
        await cache.InvalidateAsync(Entity, [cache.Key(Entity, request.ItemId)], context.CancellationToken);
        loads.MarkRenamed(request.ItemId);
        return ToProto(item, "");
    }

    [Anonymous]
    public override async Task<CachedItem> GetItem(GetItemRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("item_id", request.ItemId);
        validator.Check("ttl_seconds", request.TtlSeconds > 0, "must be positive").ThrowIfInvalid();
        var found = await cache.GetOrLoadAsync(Entity, cache.Key(Entity, request.ItemId), TimeSpan.FromSeconds(request.TtlSeconds), async ct =>
        {
            loads.Increment(request.ItemId);
            var item = await db.Items.AsNoTracking().Include(i => i.Master).SingleOrDefaultAsync(i => i.Master.Uuid == id, ct);
            loads.MarkLoaded(request.ItemId);
            if (request.HoldUntilRenamed)
            {
                await loads.Renamed(request.ItemId, ct);
            }

            return item is null ? null : ToProto(item, "");
        }, context.CancellationToken);
        return new CachedItem
        {
            Item = found ?? throw new NotFoundException(Entity, request.ItemId),
            Loads = loads.Of(request.ItemId),
        };
    }

    [Anonymous]
    public override async Task<Empty> AwaitLoad(GetItemRequest request, ServerCallContext context)
    {
        await loads.Loaded(request.ItemId, context.CancellationToken);
        return new Empty();
    }

    [Anonymous]
    public override async Task<Empty> InvalidateItem(GetItemRequest request, ServerCallContext context)
    {
        await cache.InvalidateAsync(Entity, [cache.Key(Entity, request.ItemId)], context.CancellationToken);
        return new Empty();
    }

    [Anonymous]
    public override async Task<Empty> PostNote(Note request, ServerCallContext context)
    {
        await dapr.PublishEventAsync(options.PubSubName, topics.Note, new { key = request.Key }, context.CancellationToken);
        return new Empty();
    }

    public override Task<Empty> Undeclared(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    private static V1.Item ToProto(ProbeItem item, string eventId) => new()
    {
        ItemId = item.Master.Uuid.ToString(),
        Name = item.Name,
        Version = item.Master.Version,
        EventId = eventId,
    };
}
