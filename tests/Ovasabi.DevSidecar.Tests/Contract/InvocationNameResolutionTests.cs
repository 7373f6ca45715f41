using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A caller and an HTTP callee whose sidecars both run with a Configuration that names the sqlite name resolver and a
/// database file of their own (not the test run's shared one). The callee's sidecar can be stopped and restarted.
/// </summary>
public sealed class NameResolutionSidecars : SidecarFixture
{
    private readonly ResourceFolder _configs;
    private SidecarProcess _callee = null!;

    public NameResolutionSidecars()
    {
        _configs = NewFolder();
    }

    public string DatabaseFile => _configs.PathOf("names.db");

    public SidecarProcess Caller { get; private set; } = null!;

    public HttpTestApp CalleeApp { get; private set; } = null!;

    /// <summary>The callee's sidecar; one a test starts in its place is disposed with the fixture too.</summary>
    public SidecarProcess Callee
    {
        get => _callee;
        set => _callee = Own(value);
    }

    public SidecarLaunch CalleeLaunch => new(CalleeApp.AppId, Resources.Directory)
    {
        AppPort = CalleeApp.Port,
        AppProtocol = "http",
        ConfigFile = _configs.PathOf("config.yaml"),
    };

    protected override async Task StartAsync()
    {
        _configs.Add("config.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: sqlite-names
            spec:
              nameResolution:
                component: sqlite
                version: v1
                configuration:
                  connectionString: "{DatabaseFile}"
            """);
        CalleeApp = Own(await HttpTestApp.StartAsync(UniqueName.Create("nr-callee")));
        var sidecars = await SidecarProcess.StartReadyAsync(
            new SidecarLaunch(UniqueName.Create("nr-caller"), Resources.Directory) { ConfigFile = _configs.PathOf("config.yaml") },
            CalleeLaunch);
        Caller = Own(sidecars[0]);
        Callee = sidecars[1];
    }

    /// <summary>The addresses registered for <paramref name="appId"/> in a name-resolution database file.</summary>
    public static async Task<IReadOnlyList<string>> RegisteredAddressesAsync(string databaseFile, string appId)
    {
        if (!File.Exists(databaseFile))
        {
            return [];
        }
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databaseFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT address FROM hosts WHERE app_id = $app";
        command.Parameters.AddWithValue("$app", appId);
        var addresses = new List<string>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                addresses.Add(reader.GetString(0));
            }
        }
        catch (SqliteException e) when (e.Message.Contains("no such table", StringComparison.Ordinal))
        {
            // Nothing registered there yet.
        }
        return addresses;
    }
}

/// <summary>How a caller finds its callee: the sqlite name resolver of the Configuration, callees that stop and come back.</summary>
public sealed class InvocationNameResolutionTests(NameResolutionSidecars fixture) : IClassFixture<NameResolutionSidecars>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> InvokeCalleeAsync(string marker) =>
        fixture.Caller.InvokeAsync("GET", fixture.CalleeApp.AppId, $"ping/{marker}", Cancel);

    [Fact]
    public async Task Sidecars_with_a_sqlite_nameResolution_configuration_register_in_its_file_and_reach_each_other_through_it()
    {
        var marker = Guid.NewGuid().ToString("N");

        using var response = await InvokeCalleeAsync(marker);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(fixture.CalleeApp.All, r => r.Path == $"/ping/{marker}");
        Assert.Single(await NameResolutionSidecars.RegisteredAddressesAsync(fixture.DatabaseFile, fixture.Caller.AppId));
        Assert.Single(await NameResolutionSidecars.RegisteredAddressesAsync(fixture.DatabaseFile, fixture.CalleeApp.AppId));
        Assert.Empty(await NameResolutionSidecars.RegisteredAddressesAsync(SidecarProcess.NameResolutionDatabase, fixture.CalleeApp.AppId));
    }

    [Fact]
    public async Task A_stopped_callee_fails_with_ERR_DIRECT_INVOKE_and_once_restarted_on_other_ports_is_reached_without_restarting_the_caller()
    {
        var marker = Guid.NewGuid().ToString("N");
        using (var before = await InvokeCalleeAsync($"before-{marker}"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        var oldAddress = Assert.Single(await NameResolutionSidecars.RegisteredAddressesAsync(fixture.DatabaseFile, fixture.CalleeApp.AppId));

        await fixture.Callee.StopAsync();
        await fixture.Callee.DisposeAsync();
        using (var stopped = await InvokeCalleeAsync($"stopped-{marker}"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, stopped.StatusCode);
            var error = await stopped.Content.ReadFromJsonAsync<JsonObject>(Cancel);
            Assert.Equal("ERR_DIRECT_INVOKE", (string?)error!["errorCode"]);
        }
        Assert.Empty(await NameResolutionSidecars.RegisteredAddressesAsync(fixture.DatabaseFile, fixture.CalleeApp.AppId));

        fixture.Callee = await SidecarProcess.StartAsync(fixture.CalleeLaunch, Cancel);
        await fixture.Callee.WaitReadyAsync(Cancel);
        using var after = await InvokeCalleeAsync($"after-{marker}");

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Single(fixture.CalleeApp.All, r => r.Path == $"/ping/after-{marker}");
        Assert.DoesNotContain(fixture.CalleeApp.All, r => r.Path == $"/ping/stopped-{marker}");
        var newAddress = Assert.Single(await NameResolutionSidecars.RegisteredAddressesAsync(fixture.DatabaseFile, fixture.CalleeApp.AppId));
        Assert.NotEqual(oldAddress, newAddress);
    }

    [Fact]
    public async Task Without_a_Configuration_or_variable_naming_the_file_a_sidecar_registers_under_the_users_own_dot_dapr_never_in_a_shared_folder()
    {
        var home = Directory.CreateTempSubdirectory("ovasabi-home-");
        try
        {
            var launch = new SidecarLaunch(UniqueName.Create("nr-default"), fixture.Resources.Directory)
            {
                NameResolutionDatabase = "",
                Environment = new Dictionary<string, string?> { ["HOME"] = home.FullName },
            };
            await using var sidecar = await SidecarProcess.StartAsync(launch, Cancel);

            var file = Path.Combine(home.FullName, ".dapr", "dev-sidecar-nameresolution.db");
            Assert.Single(await NameResolutionSidecars.RegisteredAddressesAsync(file, launch.AppId));
            Assert.Empty(await NameResolutionSidecars.RegisteredAddressesAsync(SidecarProcess.NameResolutionDatabase, launch.AppId));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            home.Delete(recursive: true);
        }
    }
}
