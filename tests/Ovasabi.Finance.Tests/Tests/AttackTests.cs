using Ovasabi.Testing.Platform;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>
/// The ways in that were found open (issue 11), each tried as an attacker would, and each refused with nothing changed:
/// minting money by posing as another app, and forging an event into an app.
/// </summary>
public sealed class AttackTests(SharedFinancePlatform platform)
{
    private static DepositRequest NineThousandEuros(string userId) => new()
    {
        IdempotencyKey = Guid.NewGuid().ToString(), UserId = userId, Amount = new Money { CurrencyCode = "EUR", MinorUnits = 9_000_00 },
    };

    private static Metadata PosingAs(string appId) => new() { { "dapr-caller-app-id", appId } };

    private async Task<long> BalanceAsync(string userId) =>
        (await platform.FinanceAsAdmin().GetBalanceAsync(new GetBalanceRequest { UserId = userId, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits;

    [Fact]
    public async Task A_deposit_sent_straight_to_the_finance_port_as_auth_without_the_app_token_or_with_another_apps_is_Unauthenticated()
    {
        var victim = await platform.NewUserIdAsync();
        var withoutToken = new FinanceService.FinanceServiceClient(platform.Direct(platform.FinanceApp, appApiToken: ""));
        var withUsersToken = new FinanceService.FinanceServiceClient(platform.Direct(platform.FinanceApp, appApiToken: platform.AppApiTokens[AppPlatform.UserAppId]));

        await FailsAsync(StatusCode.Unauthenticated, () => withoutToken.DepositAsync(NineThousandEuros(victim), PosingAs("auth"), cancellationToken: Cancel));
        await FailsAsync(StatusCode.Unauthenticated, () => withUsersToken.DepositAsync(NineThousandEuros(victim), PosingAs("auth"), cancellationToken: Cancel));

        Assert.Equal(0, await BalanceAsync(victim));
    }

    [Fact]
    public async Task A_deposit_with_the_finance_token_posing_as_an_app_the_table_grants_no_deposit_is_PermissionDenied_by_the_app_itself()
    {
        // Even past every sidecar (as if the token leaked), the app checks the access table itself.
        var victim = await platform.NewUserIdAsync();
        var direct = new FinanceService.FinanceServiceClient(platform.Direct(platform.FinanceApp));

        // An app of the table that may not deposit is refused; the gateway is no app of the table, so it is anonymous.
        foreach (var (app, code) in new[] { (AppPlatform.AuthAppId, StatusCode.PermissionDenied), (AppPlatform.UserAppId, StatusCode.PermissionDenied), ("gateway", StatusCode.Unauthenticated) })
        {
            await FailsAsync(code, () => direct.DepositAsync(NineThousandEuros(victim), PosingAs(app), cancellationToken: Cancel));
        }

        Assert.Equal(0, await BalanceAsync(victim));
    }

    [Fact]
    public async Task A_deposit_through_the_auth_or_user_sidecar_is_PermissionDenied()
    {
        var victim = await platform.NewUserIdAsync();

        foreach (var app in new[] { AppPlatform.AuthAppId, AppPlatform.UserAppId })
        {
            var finance = await platform.FinanceClientAsAsync(app);
            await FailsAsync(StatusCode.PermissionDenied, () => finance.DepositAsync(NineThousandEuros(victim), cancellationToken: Cancel));
        }

        Assert.Equal(0, await BalanceAsync(victim));
    }

    [Fact]
    public async Task A_forged_user_deleted_event_sent_to_auth_through_another_sidecar_or_straight_to_its_port_is_refused_and_ends_no_session()
    {
        var victim = await platform.SignUpAsync();
        var forged = new TopicEventRequest
        {
            Id = Guid.NewGuid().ToString(), Source = "user", Type = TopicName.Of(UserTopic.UserDeleted), SpecVersion = "1.0", DataContentType = "application/json",
            Topic = TopicName.Of(UserTopic.UserDeleted), PubsubName = "pubsub", Data = ByteString.CopyFromUtf8($$"""{"userId": "{{victim.Id}}"}"""),
        };

        // Through the gateway's and the user app's sidecars by gRPC proxying (access control denies AppCallback to every caller).
        foreach (var sidecar in new[] { platform.GatewaySidecar, await platform.SidecarOfAsync(AppPlatform.UserAppId) })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => new AppCallbackClient(platform.InvokerVia(sidecar, AppPlatform.AuthAppId, null)).OnTopicEventAsync(forged, Cancel));
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        }
        // Straight to auth's port with its own token, as a proxied call arrives (the app refuses what another app sent).
        var stamped = platform.Direct(platform.AuthApp).Intercept(metadata =>
        {
            metadata.Add("dapr-caller-app-id", AppPlatform.UserAppId);
            metadata.Add("dapr-callee-app-id", AppPlatform.AuthAppId);
            return metadata;
        });
        var refused = await Assert.ThrowsAsync<RpcException>(() => new AppCallbackClient(stamped).OnTopicEventAsync(forged, Cancel));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("only from the app's own sidecar", refused.Status.Detail, StringComparison.Ordinal);

        await platform.AuthClient(victim.AccessToken).ListSessionsAsync(new Auth.V1.ListSessionsRequest(), cancellationToken: Cancel);
    }
}
