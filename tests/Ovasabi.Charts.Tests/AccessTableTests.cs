namespace Ovasabi.Charts.Tests;

/// <summary>
/// The access table (protos/ovasabi/access.yaml) against the contracts: each gRPC service is served by the app its
/// package names, and every RPC an app may call exists. A typo there would silently grant nothing.
/// </summary>
public sealed class AccessTableTests
{
    [Fact]
    public void Every_service_of_the_contracts_is_served_by_exactly_the_app_its_package_names()
    {
        var servedBy = AccessTable.AppIds.SelectMany(app => AccessTable.Serves(app).Select(service => (service, app))).ToList();

        Assert.Equal(AccessTable.Services.Keys.Order(StringComparer.Ordinal), servedBy.Select(s => s.service).Order(StringComparer.Ordinal));
        Assert.All(servedBy, s => Assert.StartsWith($"ovasabi.{s.app}.v", s.service, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_RPC_an_app_may_call_exists_and_belongs_to_another_app()
    {
        foreach (var app in AccessTable.AppIds)
        {
            Assert.All(AccessTable.Calls(app), call =>
            {
                var parts = call.Split('/');
                Assert.True(parts.Length == 2 && AccessTable.Services.TryGetValue(parts[0], out var service) && service.FindMethodByName(parts[1]) is not null,
                    $"{app} may call {call}, which no contract defines");
                Assert.NotEqual(app, AccessTable.ServedBy("/" + call));
            });
        }
    }

    [Fact]
    public void The_gateway_is_no_app_of_the_table_so_it_never_acts_as_one()
    {
        Assert.DoesNotContain("gateway", AccessTable.AppIds);
        Assert.Equal(ValueSets.BuiltApps, AccessTable.AppIds.Order(StringComparer.Ordinal));
    }
}
