using Google.Protobuf;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;
using Ovasabi.Testing;
using StackExchange.Redis;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>StateCache over the sidecar's Redis state store: cache-aside with a TTL on every entry, invalidated on write.</summary>
[Collection(ProbeCollection.Name)]
public sealed class CacheTests(ProbePlatform platform, RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_miss_loads_from_the_database_and_stores_the_value_with_its_TTL()
    {
        var item = await CreateAsync();

        var read = await GetAsync(item.ItemId, ttlSeconds: 120);

        Assert.Equal(1, read.Loads);
        Assert.Equal(item.Name, read.Item.Name);
        var (value, ttl) = await CachedAsync(item.ItemId);
        Assert.NotNull(value);
        Assert.Equal(item.ItemId, JsonParser.Default.Parse<Item>(value).ItemId);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task A_hit_answers_from_the_cache_without_loading()
    {
        var item = await CreateAsync();
        await GetAsync(item.ItemId);

        var again = await GetAsync(item.ItemId);

        Assert.Equal(1, again.Loads);
        Assert.Equal(item.ItemId, again.Item.ItemId);
        Assert.Equal(item.Name, again.Item.Name);
    }

    [Fact]
    public async Task InvalidateAsync_removes_the_entry_so_the_next_read_loads_again()
    {
        var item = await CreateAsync();
        await GetAsync(item.ItemId);

        await platform.Probe.Probe.InvalidateItemAsync(new GetItemRequest { ItemId = item.ItemId }, cancellationToken: Cancel);

        Assert.Null((await CachedAsync(item.ItemId)).Value);
        Assert.Equal(2, (await GetAsync(item.ItemId)).Loads);
    }

    [Fact]
    public async Task A_reader_that_loaded_before_a_write_does_not_store_the_replaced_value_after_the_writes_invalidation()
    {
        var item = await CreateAsync();
        // The slow reader loads version 1, then holds it until the write has committed and invalidated.
        var slow = platform.Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = item.ItemId, TtlSeconds = 300, HoldUntilRenamed = true }, cancellationToken: Cancel);
        await platform.Probe.Probe.AwaitLoadAsync(new GetItemRequest { ItemId = item.ItemId }, cancellationToken: Cancel);
        var renamed = await platform.Probe.Probe.RenameItemAsync(new RenameItemRequest { ItemId = item.ItemId, Name = Names.Unique("renamed"), ReadVersion = item.Version }, cancellationToken: Cancel);

        Assert.Equal(item.Version, (await slow).Item.Version);
        var read = await GetAsync(item.ItemId);
        Assert.Equal(renamed.Version, read.Item.Version);
        Assert.Equal(renamed.Name, read.Item.Name);
    }

    [Fact]
    public async Task A_write_that_invalidates_after_commit_is_read_back_fresh()
    {
        var item = await CreateAsync();
        await GetAsync(item.ItemId);

        var renamed = await platform.Probe.Probe.RenameItemAsync(new RenameItemRequest { ItemId = item.ItemId, Name = Names.Unique("renamed"), ReadVersion = item.Version }, cancellationToken: Cancel);

        var read = await GetAsync(item.ItemId);
        Assert.Equal(renamed.Name, read.Item.Name);
        Assert.Equal(renamed.Version, read.Item.Version);
    }

    [Fact]
    public async Task Nothing_is_cached_for_an_entity_the_loader_does_not_find()
    {
        var id = Guid.NewGuid().ToString();

        var first = await Assert.ThrowsAsync<RpcException>(async () => await GetAsync(id));
        var second = await Assert.ThrowsAsync<RpcException>(async () => await GetAsync(id));

        Assert.Equal((StatusCode.NotFound, StatusCode.NotFound), (first.StatusCode, second.StatusCode));
        Assert.Null((await CachedAsync(id)).Value);
    }

    [Fact]
    public async Task An_unreadable_cache_entry_is_treated_as_a_miss_and_replaced()
    {
        var item = await CreateAsync();
        await GetAsync(item.ItemId);
        await using (var connection = await redis.ConnectAsync())
        {
            await connection.GetDatabase().HashSetAsync(RedisKey(item.ItemId), "data", "{not protobuf json");
        }

        var read = await GetAsync(item.ItemId);

        Assert.Equal(2, read.Loads);
        Assert.Equal(item.Name, read.Item.Name);
        Assert.Equal(item.ItemId, JsonParser.Default.Parse<Item>((await CachedAsync(item.ItemId)).Value).ItemId);
    }

    private async Task<Item> CreateAsync() =>
        await platform.Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("cached") }, cancellationToken: Cancel);

    private async Task<CachedItem> GetAsync(string itemId, int ttlSeconds = 300) =>
        await platform.Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = itemId, TtlSeconds = ttlSeconds }, cancellationToken: Cancel);

    /// <summary>daprd's Redis state layout: a HASH <c>&lt;app-id&gt;||&lt;key&gt;</c>; the library's key is <c>probe:item:&lt;id&gt;</c>.</summary>
    private string RedisKey(string itemId) => $"{platform.AppId}||probe:item:{itemId}";

    private async Task<(string? Value, TimeSpan? Ttl)> CachedAsync(string itemId)
    {
        await using var connection = await redis.ConnectAsync();
        var db = connection.GetDatabase();
        var value = await db.HashGetAsync(RedisKey(itemId), "data");
        return (value.IsNull ? null : value.ToString(), await db.KeyTimeToLiveAsync(RedisKey(itemId)));
    }
}
