using Dapr;
using Dapr.Client;
using Google.Rpc;
using Grpc.Core;
using Npgsql;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>One sidecar with a state.redis store and a state.postgresql store, shared by the state contract tests.</summary>
public sealed class StateSidecar(RedisServer redis, PostgresServer postgres) : SidecarFixture
{
    public const string Redis = "redisstore";
    public const string Postgres = "pgstore";

    public SidecarProcess Sidecar { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public string PostgresConnectionString { get; private set; } = "";

    public RedisServer RedisServer => redis;

    protected override async Task StartAsync()
    {
        PostgresConnectionString = await postgres.CreateDatabaseAsync("state_contract");
        Resources.RedisState(Redis, redis).PostgresState(Postgres, PostgresConnectionString);
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("state"), Resources.Directory)));
        Client = ClientOf(Sidecar);
    }
}

/// <summary>The state API through the real Dapr .NET SDK, on state.redis and on state.postgresql.</summary>
public sealed class StateContractTests(StateSidecar fixture) : IClassFixture<StateSidecar>
{
    public sealed record Order(string Id, long AmountMinor, string Currency);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private DaprClient Dapr => fixture.Client;

    private static string Key() => "order-" + Guid.NewGuid().ToString("N")[..12];

    public static TheoryData<string> Stores => [StateSidecar.Redis, StateSidecar.Postgres];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Save_then_get_returns_the_value_and_delete_removes_it(string store)
    {
        var key = Key();
        var order = new Order(key, 12_345, "EUR");
        await Dapr.SaveStateAsync(store, key, order, cancellationToken: Cancel);

        Assert.Equal(order, await Dapr.GetStateAsync<Order>(store, key, cancellationToken: Cancel));

        await Dapr.DeleteStateAsync(store, key, cancellationToken: Cancel);
        Assert.Null(await Dapr.GetStateAsync<Order>(store, key, cancellationToken: Cancel));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_missing_key_reads_as_null_with_an_empty_etag(string store)
    {
        var (value, etag) = await Dapr.GetStateAndETagAsync<Order>(store, Key(), cancellationToken: Cancel);

        Assert.Null(value);
        Assert.Equal("", etag);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Bulk_get_answers_in_request_order_with_missing_keys_empty(string store)
    {
        var keys = Enumerable.Range(0, 6).Select(_ => Key()).ToList();
        foreach (var key in keys.Where((_, i) => i % 2 == 0))
        {
            await Dapr.SaveStateAsync(store, key, new Order(key, 1, "USD"), cancellationToken: Cancel);
        }

        var items = await Dapr.GetBulkStateAsync(store, keys, parallelism: 2, cancellationToken: Cancel);

        Assert.Equal(keys, items.Select(i => i.Key));
        for (var i = 0; i < keys.Count; i++)
        {
            Assert.Equal(i % 2 == 0, items[i].Value.Length > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_stale_etag_makes_TrySaveState_and_TryDeleteState_return_false_and_keeps_the_newer_value(string store)
    {
        var key = Key();
        await Dapr.SaveStateAsync(store, key, new Order(key, 1, "EUR"), cancellationToken: Cancel);
        var (_, firstEtag) = await Dapr.GetStateAndETagAsync<Order>(store, key, cancellationToken: Cancel);
        Assert.True(await Dapr.TrySaveStateAsync(store, key, new Order(key, 2, "EUR"), firstEtag, cancellationToken: Cancel));

        Assert.False(await Dapr.TrySaveStateAsync(store, key, new Order(key, 3, "EUR"), firstEtag, cancellationToken: Cancel));
        Assert.False(await Dapr.TryDeleteStateAsync(store, key, firstEtag, cancellationToken: Cancel));

        var (value, currentEtag) = await Dapr.GetStateAndETagAsync<Order>(store, key, cancellationToken: Cancel);
        Assert.Equal(2, value!.AmountMinor);
        Assert.NotEqual(firstEtag, currentEtag);
        Assert.True(await Dapr.TryDeleteStateAsync(store, key, currentEtag, cancellationToken: Cancel));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_value_saved_with_ttlInSeconds_expires(string store)
    {
        var key = Key();
        await Dapr.SaveStateAsync(store, key, new Order(key, 1, "EUR"), metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "1" }, cancellationToken: Cancel);
        Assert.NotNull(await Dapr.GetStateAsync<Order>(store, key, cancellationToken: Cancel));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await Dapr.GetStateAsync<Order>(store, key, cancellationToken: Cancel) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the value did not expire within 20 s");
            await Task.Delay(200, Cancel);
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_transaction_applies_upserts_and_deletes(string store)
    {
        string a = Key(), b = Key();
        await Dapr.SaveStateAsync(store, b, new Order(b, 1, "EUR"), cancellationToken: Cancel);

        await Dapr.ExecuteStateTransactionAsync(store,
        [
            new StateTransactionRequest(a, Json(new Order(a, 10, "EUR")), StateOperationType.Upsert),
            new StateTransactionRequest(b, null, StateOperationType.Delete),
        ], cancellationToken: Cancel);

        Assert.Equal(10, (await Dapr.GetStateAsync<Order>(store, a, cancellationToken: Cancel))!.AmountMinor);
        Assert.Null(await Dapr.GetStateAsync<Order>(store, b, cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_transaction_with_a_stale_etag_fails_with_Internal_and_postgresql_rolls_back_every_operation()
    {
        var (fresh, guarded) = await PrepareStaleTransactionAsync(StateSidecar.Postgres);

        var error = await Assert.ThrowsAsync<DaprException>(() => Dapr.ExecuteStateTransactionAsync(StateSidecar.Postgres, fresh.Operations, cancellationToken: Cancel));

        Assert.Equal(StatusCode.Internal, Rpc(error).StatusCode);
        Assert.Null(await Dapr.GetStateAsync<Order>(StateSidecar.Postgres, fresh.NewKey, cancellationToken: Cancel));
        Assert.Equal(2, (await Dapr.GetStateAsync<Order>(StateSidecar.Postgres, guarded, cancellationToken: Cancel))!.AmountMinor);
    }

    [Fact]
    public async Task A_transaction_with_a_stale_etag_fails_with_Internal_and_redis_keeps_daprd_multi_exec_semantics()
    {
        var (fresh, guarded) = await PrepareStaleTransactionAsync(StateSidecar.Redis);

        var error = await Assert.ThrowsAsync<DaprException>(() => Dapr.ExecuteStateTransactionAsync(StateSidecar.Redis, fresh.Operations, cancellationToken: Cancel));

        // MULTI/EXEC has no rollback: the stale write is refused, the other operation of the transaction is applied.
        Assert.Equal(StatusCode.Internal, Rpc(error).StatusCode);
        Assert.Equal(2, (await Dapr.GetStateAsync<Order>(StateSidecar.Redis, guarded, cancellationToken: Cancel))!.AmountMinor);
        Assert.NotNull(await Dapr.GetStateAsync<Order>(StateSidecar.Redis, fresh.NewKey, cancellationToken: Cancel));
    }

    private sealed record StaleTransaction(string NewKey, IReadOnlyList<StateTransactionRequest> Operations);

    /// <summary>A transaction of a fresh upsert plus an upsert guarded by an etag that a later write made stale.</summary>
    private async Task<(StaleTransaction Transaction, string GuardedKey)> PrepareStaleTransactionAsync(string store)
    {
        string guarded = Key(), fresh = Key();
        await Dapr.SaveStateAsync(store, guarded, new Order(guarded, 1, "EUR"), cancellationToken: Cancel);
        var (_, staleEtag) = await Dapr.GetStateAndETagAsync<Order>(store, guarded, cancellationToken: Cancel);
        await Dapr.SaveStateAsync(store, guarded, new Order(guarded, 2, "EUR"), cancellationToken: Cancel);
        return (new StaleTransaction(fresh,
        [
            new StateTransactionRequest(fresh, Json(new Order(fresh, 5, "EUR")), StateOperationType.Upsert),
            new StateTransactionRequest(guarded, Json(new Order(guarded, 99, "EUR")), StateOperationType.Upsert, staleEtag),
        ]), guarded);
    }

    [Fact]
    public async Task Redis_keys_are_stored_as_appid_prefixed_hashes_with_data_and_version()
    {
        var key = Key();
        await Dapr.SaveStateAsync(StateSidecar.Redis, key, new Order(key, 7, "EUR"), cancellationToken: Cancel);
        await using var redis = await fixture.RedisServer.ConnectAsync();

        var hash = (await redis.GetDatabase().HashGetAllAsync($"{fixture.Sidecar.AppId}||{key}")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());

        Assert.Equal("1", hash["version"]);
        Assert.Contains("\"amountMinor\":7", hash["data"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgresql_keys_are_stored_with_the_appid_prefix()
    {
        var key = Key();
        await Dapr.SaveStateAsync(StateSidecar.Postgres, key, new Order(key, 7, "EUR"), cancellationToken: Cancel);
        await using var connection = new NpgsqlConnection(fixture.PostgresConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM state WHERE key = $1", connection) { Parameters = { new() { Value = $"{fixture.Sidecar.AppId}||{key}" } } };

        Assert.Equal(1L, await command.ExecuteScalarAsync(Cancel));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_key_containing_double_pipes_is_refused_with_InvalidArgument_and_DAPR_STATE_ILLEGAL_KEY(string store)
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => Dapr.SaveStateAsync(store, "bad||key", new Order("x", 1, "EUR"), cancellationToken: Cancel));

        var rpc = Rpc(error);
        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Equal("input key/keyPrefix 'bad||key' can't contain '||'", rpc.Status.Detail);
        Assert.Equal("DAPR_STATE_ILLEGAL_KEY", rpc.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
    }

    [Fact]
    public async Task An_unknown_store_is_refused_with_InvalidArgument_state_store_not_found()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => Dapr.GetStateAsync<Order>("nosuchstore", "k", cancellationToken: Cancel));

        var rpc = Rpc(error);
        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Equal("state store nosuchstore is not found", rpc.Status.Detail);
        Assert.Equal("DAPR_STATE_NOT_FOUND", rpc.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task An_empty_key_sent_past_the_SDK_is_refused_with_InvalidArgument(string store)
    {
        var grpc = fixture.Sidecar.CreateGrpcClient();
        var request = new global::Dapr.Client.Autogen.Grpc.v1.SaveStateRequest { StoreName = store };
        request.States.Add(new global::Dapr.Client.Autogen.Grpc.v1.StateItem { Key = "", Value = Google.Protobuf.ByteString.CopyFromUtf8("1") });

        var error = await Assert.ThrowsAsync<RpcException>(async () => await grpc.SaveStateAsync(request, cancellationToken: Cancel));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("state key cannot be empty", error.Status.Detail);
    }

    [Fact]
    public async Task The_sidecar_keeps_serving_after_refused_requests()
    {
        await Assert.ThrowsAsync<DaprException>(() => Dapr.SaveStateAsync(StateSidecar.Redis, "a||b", 1, cancellationToken: Cancel));
        await Assert.ThrowsAsync<DaprException>(() => Dapr.GetStateAsync<int>("missing", "k", cancellationToken: Cancel));

        var key = Key();
        await Dapr.SaveStateAsync(StateSidecar.Redis, key, 42, cancellationToken: Cancel);
        Assert.Equal(42, await Dapr.GetStateAsync<int>(StateSidecar.Redis, key, cancellationToken: Cancel));
    }

    private static byte[] Json<T>(T value) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));

    private static RpcException Rpc(DaprException error) =>
        error.InnerException as RpcException ?? throw new Xunit.Sdk.XunitException($"expected an RpcException inside, got {error.InnerException}");
}
