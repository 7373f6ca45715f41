using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>The cache only ever makes a read faster: with the state store's Redis down, reads and writes still answer.</summary>
public sealed class CacheOutageTests(CacheOutagePlatform platform) : IClassFixture<CacheOutagePlatform>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ProbeHost Probe => platform.Probe;

    [Fact]
    public async Task With_Redis_down_reads_answer_from_the_loader_and_writes_succeed_then_caching_resumes()
    {
        var item = await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("uncached") }, cancellationToken: Cancel);
        Assert.Equal(1, (await GetAsync(item.ItemId)).Loads);

        await platform.OwnRedis.StopAsync(Cancel);
        CachedItem first, second;
        Item renamed;
        try
        {
            first = await GetAsync(item.ItemId);
            second = await GetAsync(item.ItemId);
            renamed = await Probe.Probe.RenameItemAsync(new RenameItemRequest { ItemId = item.ItemId, Name = Names.Unique("renamed"), ReadVersion = item.Version }, cancellationToken: Cancel);
        }
        finally
        {
            await platform.OwnRedis.StartAsync(Cancel);
        }

        // Redis restarted empty: the first read that reaches it stores the item, later ones are hits.
        Assert.Equal((2, 3), (first.Loads, second.Loads));
        Assert.Equal(item.Name, second.Item.Name);
        var cached = await Eventually.Async(async () => (await GetAsync(item.ItemId), await GetAsync(item.ItemId)),
            pair => pair.Item1.Loads == pair.Item2.Loads, "a read to be a cache hit again");
        Assert.Equal(renamed.Name, cached.Item2.Item.Name);
    }

    private async Task<CachedItem> GetAsync(string itemId) =>
        await Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = itemId, TtlSeconds = 300 }, cancellationToken: Cancel);
}
