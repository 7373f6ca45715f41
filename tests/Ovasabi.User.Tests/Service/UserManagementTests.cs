using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Contracts;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>The management port: liveness, readiness with its checks, and Prometheus metrics of the served RPCs.</summary>
public sealed class UserManagementTests(SharedUserPlatform platform)
{
    [Fact]
    public async Task Healthz_answers_200()
    {
        using var response = await platform.UserApp.Management.GetAsync("/healthz", Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_200_with_a_healthy_check_for_PostgreSQL_and_for_the_sidecar()
    {
        using var response = await platform.UserApp.Management.GetAsync("/readyz", Cancel);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("dapr-sidecar").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_show_rpc_server_duration_for_each_UserService_method_called_with_its_status_code()
    {
        var created = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await platform.Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        await platform.Users.ListRoleCatalogAsync(new Empty(), cancellationToken: Cancel);
        await FailsAsync(StatusCode.NotFound, () => platform.Users.GetUserAsync(new GetUserRequest { UserId = Guid.NewGuid().ToString() }, cancellationToken: Cancel));

        // The Prometheus exporter may serve a snapshot for a moment; poll until it shows the calls.
        var metrics = await EventuallyAsync(() => platform.UserApp.Management.GetStringAsync("/metrics", Cancel),
            text => Lines(text, "ListRoleCatalog").Any() && Lines(text, "GetUser").Any(l => l.Contains("rpc_grpc_status_code=\"5\"", StringComparison.Ordinal)),
            what: "rpc_server_duration of the calls in /metrics");

        foreach (var method in new[] { "CreateUser", "GetUser", "ListRoleCatalog" })
        {
            Assert.Contains(Lines(metrics, method), l => l.Contains("rpc_grpc_status_code=\"0\"", StringComparison.Ordinal)
                                                        && l.Contains("rpc_service=\"ovasabi.user.v1.UserService\"", StringComparison.Ordinal));
        }
    }

    private static IEnumerable<string> Lines(string metrics, string method) =>
        metrics.Split('\n').Where(l => l.StartsWith("rpc_server_duration", StringComparison.Ordinal) && l.Contains($"rpc_method=\"{method}\"", StringComparison.Ordinal));
}

/// <summary>Readiness follows PostgreSQL: not ready while it is down, ready again once it is back; the API says Unavailable meanwhile.</summary>
[Collection(OwnServersCollection.Name)]
public sealed class UserDatabaseOutageTests(OwnServersPlatform platform)
{
    [Fact]
    public async Task Readyz_turns_503_while_PostgreSQL_is_down_and_200_when_it_is_back_and_the_API_serves_again()
    {
        var created = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync());

        await platform.Postgres.StopAsync(Cancel);
        try
        {
            var down = await EventuallyAsync(ReadinessAsync, r => r.Status == HttpStatusCode.ServiceUnavailable, what: "/readyz 503");
            var checks = JsonDocument.Parse(down.Body).RootElement.GetProperty("checks");
            Assert.Equal("Unhealthy", checks.GetProperty("postgresql").GetProperty("status").GetString());
            // Why is for the log: no exception text reaches anonymous callers.
            Assert.Equal("unreachable", checks.GetProperty("postgresql").GetProperty("description").GetString());
            Assert.Equal("Healthy", checks.GetProperty("dapr-sidecar").GetProperty("status").GetString());
            await FailsAsync(StatusCode.Unavailable, () => platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel));
            await FailsAsync(StatusCode.Unavailable, () => platform.Users.GetUserAsync(new GetUserRequest { Username = created.Username }, cancellationToken: Cancel));
            // The liveness probe must not restart the app for an outage of its database.
            using var live = await platform.UserApp.Management.GetAsync("/healthz", Cancel);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            await platform.Postgres.StartAsync(Cancel);
        }

        await EventuallyAsync(ReadyAsync, s => s == HttpStatusCode.OK, what: "/readyz 200");
        // The first calls may still meet a connection from before the outage; the app must get over it on its own.
        await EventuallyAsync(async () =>
        {
            try
            {
                return (await platform.Users.GetUserAsync(new GetUserRequest { Username = created.Username }, cancellationToken: Cancel)).UserId;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return "";
            }
        }, id => id == created.UserId, what: "GetUser after the outage");
        var again = await platform.Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        await platform.EventsAsync(TopicName.Of(UserTopic.UserCreated), again.UserId, timeout: EventTimeout);
    }

    private async Task<HttpStatusCode> ReadyAsync() => (await ReadinessAsync()).Status;

    private async Task<(HttpStatusCode Status, string Body)> ReadinessAsync()
    {
        using var response = await platform.UserApp.Management.GetAsync("/readyz", Cancel);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Cancel));
    }
}
