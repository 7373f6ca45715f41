using System.Net;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;
using Ovasabi.Testing;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>Start-up through the library's entry points: refusals with clear messages, and the migrate command.</summary>
public sealed class StartupTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_a_sidecar_start_up_fails_after_the_sidecar_timeout_with_a_clear_message()
    {
        var settings = NoSidecar(await postgres.CreateDatabaseAsync("startup", Cancel)) with
        {
            Extra = new Dictionary<string, string?> { ["Service:SidecarTimeoutSeconds"] = "2" },
        };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ProbeHost.StartAsync(settings, Cancel));

        Assert.Equal("probe: the Dapr sidecar did not answer within 2 s (DAPR_HTTP_PORT / DAPR_HTTP_ENDPOINT)", error.Message);
    }

    [Fact]
    public async Task With_WaitForSidecar_off_the_probe_serves_without_a_sidecar_but_is_not_ready()
    {
        var settings = NoSidecar(await postgres.CreateDatabaseAsync("startup", Cancel)) with
        {
            MigrateOnStartup = true,
            Extra = new Dictionary<string, string?> { ["Service:WaitForSidecar"] = "false" },
        };

        await using var probe = await ProbeHost.StartAsync(settings, Cancel);

        var item = await probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("alone") }, cancellationToken: Cancel);
        Assert.NotEmpty(item.EventId);
        using var live = await probe.Management.GetAsync("/healthz", Cancel);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await probe.Management.GetAsync("/readyz", Cancel);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public void A_missing_database_connection_string_fails_the_build_with_a_clear_message()
    {
        var settings = NoSidecar("unused") with { Extra = new Dictionary<string, string?> { ["ConnectionStrings:Database"] = null } };

        var error = Assert.Throws<InvalidOperationException>(() => ProbeApp.Build(settings.ToConfiguration()));

        Assert.Equal("probe: ConnectionStrings:Database is not set (env ConnectionStrings__Database)", error.Message);
    }

    [Fact]
    public async Task The_migrate_command_applies_the_migrations_and_exits_0_without_a_sidecar_and_again_with_nothing_to_do()
    {
        var connectionString = await postgres.CreateDatabaseAsync("migrate", Cancel);
        var settings = NoSidecar(connectionString);

        var (first, firstLogs) = await ProbeHost.RunToExitAsync(settings, [ServiceHosting.MigrateCommand]);
        var (second, secondLogs) = await ProbeHost.RunToExitAsync(settings, [ServiceHosting.MigrateCommand]);

        Assert.Equal(0, first);
        Assert.Contains("probe: applied 1 migration(s): ", firstLogs.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, second);
        Assert.Contains("probe: applied 0 migration(s)", secondLogs.ToString(), StringComparison.Ordinal);
        await using var db = ProbeDbContext.Create(connectionString);
        Assert.Equal(0, db.Items.Count() + db.ServiceEvents.Count() + db.ProcessedMessages.Count() + db.HandledEvents.Count() + db.Masters.Count());
    }

    [Fact]
    public async Task MigrateOnStartup_on_a_migrated_database_is_harmless_and_keeps_the_data()
    {
        var connectionString = await postgres.CreateDatabaseAsync("remigrate", Cancel);
        var settings = NoSidecar(connectionString) with
        {
            MigrateOnStartup = true,
            Extra = new Dictionary<string, string?> { ["Service:WaitForSidecar"] = "false" },
        };
        Item created;
        await using (var first = await ProbeHost.StartAsync(settings, Cancel))
        {
            created = await first.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("kept") }, cancellationToken: Cancel);
        }

        await using var second = await ProbeHost.StartAsync(settings with { GrpcPort = FreePort.Next(), ManagementPort = FreePort.Next() }, Cancel);

        Assert.Contains("probe: applied 0 migration(s)", second.Logs.ToString(), StringComparison.Ordinal);
        var read = await second.Probe.GetItemAsync(new GetItemRequest { ItemId = created.ItemId, TtlSeconds = 60 }, cancellationToken: Cancel);
        Assert.Equal(created.Name, read.Item.Name);
    }

    /// <summary>Settings whose sidecar ports nothing listens on.</summary>
    private static ProbeSettings NoSidecar(string connectionString) =>
        new(connectionString, FreePort.Next(), FreePort.Next(), UniqueName.Create("probe")) { MigrateOnStartup = false };
}
