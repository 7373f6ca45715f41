using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Ovasabi.Sample.Data;
using Ovasabi.Sample.Domain;
using Ovasabi.Sample.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Sample.Grpc;

/// <summary>The sample API: checks each request's fields, calls the store, maps the answer.</summary>
public sealed class SampleGrpcService(ItemStore items, IOptions<SampleOptions> options) : SampleService.SampleServiceBase
{
    private const string ReadAny = "sample.items.read";

    // Any signed-in user creates items of their own.
    [Authenticated]
    public override async Task<SampleItem> CreateItem(CreateItemRequest request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        if (caller.Kind != CallerKind.User)
        {
            throw new PermissionDeniedException($"{caller.Actor} may not own items: only a signed-in user does");
        }
        var validator = new Validator();
        var name = ItemRules.Name(validator, "name", request.Name, options.Value.MaxNameLength);
        validator.ThrowIfInvalid();
        return Map(await items.CreateAsync(Guid.Parse(caller.UserId!), name, context.CancellationToken));
    }

    [Permission(ReadAny, OwnerCheckedByHandler = true)]
    public override async Task<SampleItem> GetItem(GetItemRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("item_id", request.ItemId);
        validator.ThrowIfInvalid();
        var item = await items.FindAsync(id, context.CancellationToken);
        // Someone else's item is reported missing, not forbidden: its existence is not the caller's business.
        if (item is null || !context.GetCaller().Allows(ReadAny, item.OwnerUserId.ToString()))
        {
            throw new NotFoundException("item", request.ItemId);
        }
        return Map(item);
    }

    private static SampleItem Map(ItemView item) => new()
    {
        ItemId = item.Id.ToString(),
        OwnerUserId = item.OwnerUserId.ToString(),
        Name = item.Name,
        CreateTime = Timestamp.FromDateTimeOffset(item.CreatedAt),
    };
}
