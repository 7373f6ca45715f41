using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// Webhooks through Dapr's bindings.http to a receiver of the test's: endpoints an administrator registers for a user,
/// each delivery signed as Standard Webhooks specifies and checked here with that specification's .NET library, as a
/// receiver would. Tests change what the receiver answers, so they run one after another (one class).
/// </summary>
public sealed class WebhookTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string NewId() => Guid.NewGuid().ToString();

    private const string WebhookSecretOfAnother = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private NotificationService.NotificationServiceClient Admin => platform.Notification(platform.Admin.AccessToken);

    private async Task<(SignedInUser User, WebhookEndpointWithSecret Endpoint)> UserWithEndpointAsync(params string[] categories)
    {
        var user = await platform.SignUpAsync();
        var endpoint = await Admin.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
        {
            UserId = user.Id, Binding = "webhook", Path = $"/users/{user.Id}", Categories = { categories },
        }, cancellationToken: Cancel);
        return (user, endpoint);
    }

    private Task<SinkRequest> DeliveryAsync(SignedInUser user, Func<SinkRequest, bool>? also = null) =>
        platform.Webhooks.WaitForAsync(r => r.Path == $"/hooks/users/{user.Id}" && (also is null || also(r)), Cancel);

    /// <summary>What a receiver does: verify the request with the endpoint's secret (throws when it does not verify).</summary>
    private static void Verify(string secret, SinkRequest request)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }
        new StandardWebhook(secret).Verify(request.Body, headers);
    }

    /// <summary>
    /// The check the proto documents, done by hand: one of the space-separated <c>v1,</c> values is the HMAC. (The
    /// library above only ever compares the first value of a header that holds two.)
    /// </summary>
    private static bool SignedWith(string secret, SinkRequest request)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = System.Text.Encoding.UTF8.GetBytes($"{request.Headers["webhook-id"]}.{request.Headers["webhook-timestamp"]}.{request.Body}");
        var expected = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, signed));
        return request.Headers["webhook-signature"].Split(' ').Contains(expected);
    }

    [Fact]
    public async Task A_deposit_reaches_the_users_endpoint_as_json_that_verifies_with_its_secret_and_not_with_another()
    {
        var (user, endpoint) = await UserWithEndpointAsync("transactions");
        var other = await Admin.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = user.Id, Binding = "webhook", Path = "/elsewhere", Categories = { "security" } },
            cancellationToken: Cancel);

        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "12.00"), NewId());

        var request = await DeliveryAsync(user);
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        Verify(endpoint.Secret, request);
        Assert.Throws<WebhookVerificationException>(() => Verify(other.Secret, request));
        Assert.Throws<WebhookVerificationException>(() => Verify(endpoint.Secret, request with { Body = request.Body.Replace("12.00", "99.00", StringComparison.Ordinal) }));
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.Equal((request.Headers["webhook-id"], "finance.deposit_completed", "transactions", false, user.Id),
            (root.GetProperty("id").GetString(), root.GetProperty("type").GetString(), root.GetProperty("category").GetString(), root.GetProperty("critical").GetBoolean(),
                root.GetProperty("user_id").GetString()));
        Assert.Equal("12.00 EUR deposited", root.GetProperty("title").GetString());
        Assert.Equal("12.00 EUR", root.GetProperty("data").GetProperty("amount").GetString());
        var message = await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = request.Headers["webhook-id"] }, cancellationToken: Cancel).ResponseAsync,
            m => m.Status == MessageStatus.Sent, what: "the webhook to be recorded sent");
        Assert.Equal((Channel.Webhook, "webhook", "accepted"), (message.Channel, message.History[^1].Binding, message.History[^1].Outcome));
        // The security-only endpoint got nothing for a deposit.
        Assert.DoesNotContain(platform.Webhooks.Received, r => r.Path == "/hooks/elsewhere");
    }

    [Fact]
    public async Task After_a_rotation_a_delivery_carries_two_signatures_and_verifies_with_the_old_secret_and_with_the_new_one()
    {
        var (user, endpoint) = await UserWithEndpointAsync();

        var rotated = await Admin.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { UserId = user.Id, EndpointId = endpoint.Endpoint.EndpointId }, cancellationToken: Cancel);
        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId()), NewId());

        var request = await DeliveryAsync(user);
        Assert.NotEqual(endpoint.Secret, rotated.Secret);
        Assert.Equal(2, request.Headers["webhook-signature"].Split(' ').Length);
        Verify(rotated.Secret, request);
        Assert.True(SignedWith(rotated.Secret, request));
        Assert.True(SignedWith(endpoint.Secret, request));
        Assert.False(SignedWith(WebhookSecretOfAnother, request));
        var listed = Assert.Single((await platform.Notification(user.AccessToken).ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest(), cancellationToken: Cancel)).Endpoints);
        Assert.InRange(listed.PreviousSecretExpireTime.ToDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(24));
    }

    [Fact]
    public async Task A_receiver_answering_503_gets_the_same_id_again_until_it_accepts_and_one_answering_400_fails_the_message_after_one_attempt()
    {
        var (user, endpoint) = await UserWithEndpointAsync();
        try
        {
            platform.Webhooks.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "3.00"), NewId());
            var first = await DeliveryAsync(user);
            var id = first.Headers["webhook-id"];
            await DeliveryAsync(user, r => r != first && r.Headers["webhook-id"] == id);
            platform.Webhooks.StatusCode = StatusCodes.Status202Accepted;
            var message = await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = id }, cancellationToken: Cancel).ResponseAsync,
                m => m.Status == MessageStatus.Sent, what: "the webhook to be sent once the receiver accepts");
            Assert.Contains(message.History, h => h.Outcome == "transient" && h.Reason.Contains("503", StringComparison.Ordinal));
            Assert.All(platform.Webhooks.Received.Where(r => r.Headers["webhook-id"] == id), r => Verify(endpoint.Secret, r));

            platform.Webhooks.StatusCode = StatusCodes.Status400BadRequest;
            await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "4.00"), NewId());
            var refused = await DeliveryAsync(user, r => r.Body.Contains("4.00 EUR", StringComparison.Ordinal));
            var failed = await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = refused.Headers["webhook-id"] }, cancellationToken: Cancel).ResponseAsync,
                m => m.Status == MessageStatus.Failed, what: "the refused webhook to fail");
            Assert.Equal((1, "permanent"), (failed.History[^1].Attempt, failed.History[^1].Outcome));
        }
        finally
        {
            platform.Webhooks.StatusCode = StatusCodes.Status202Accepted;
        }
    }

    [Fact]
    public async Task A_deleted_endpoint_gets_nothing_more_and_deleting_or_rotating_it_again_is_NotFound()
    {
        var (user, endpoint) = await UserWithEndpointAsync();
        await Admin.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { UserId = user.Id, EndpointId = endpoint.Endpoint.EndpointId }, cancellationToken: Cancel);

        var transaction = NewId();
        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, transaction, "5.00"), NewId());

        // The deposit's email is written in the same transaction a webhook would have been.
        await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).ListMessagesAsync(new ListMessagesRequest { Category = "transactions" }, cancellationToken: Cancel).ResponseAsync,
            l => l.Messages.Count > 0, what: "the deposit's messages");
        var messages = (await platform.Notification(user.AccessToken).ListMessagesAsync(new ListMessagesRequest { Category = "transactions" }, cancellationToken: Cancel)).Messages;
        Assert.DoesNotContain(messages, m => m.Channel == Channel.Webhook);
        Assert.Empty((await platform.Notification(user.AccessToken).ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest(), cancellationToken: Cancel)).Endpoints);
        var again = await Rpc.FailsAsync(StatusCode.NotFound, () => Admin.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { UserId = user.Id, EndpointId = endpoint.Endpoint.EndpointId }, cancellationToken: Cancel));
        Assert.Equal("WEBHOOK_ENDPOINT_NOT_FOUND", Rpc.Reason(again));
        await Rpc.FailsAsync(StatusCode.NotFound, () => Admin.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { UserId = user.Id, EndpointId = endpoint.Endpoint.EndpointId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task An_eleventh_endpoint_is_FailedPrecondition_and_an_endpoint_for_a_user_who_does_not_exist_is_NotFound()
    {
        var (user, _) = await UserWithEndpointAsync();
        await Task.WhenAll(Enumerable.Range(1, 9).Select(i => Admin.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = user.Id, Binding = "webhook", Path = $"/n/{i}" },
            cancellationToken: Cancel).ResponseAsync));

        var over = await Rpc.FailsAsync(StatusCode.FailedPrecondition, () => Admin.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = user.Id, Binding = "webhook", Path = "/n/11" },
            cancellationToken: Cancel));
        var nobody = await Rpc.FailsAsync(StatusCode.NotFound, () => Admin.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/x" },
            cancellationToken: Cancel));

        Assert.Equal(("WEBHOOK_ENDPOINT_LIMIT", "USER_NOT_FOUND"), (Rpc.Reason(over), Rpc.Reason(nobody)));
        Assert.Equal(10, (await Admin.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { UserId = user.Id }, cancellationToken: Cancel)).Endpoints.Count);
    }
}
