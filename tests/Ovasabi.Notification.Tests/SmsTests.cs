using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// SMS through Dapr's bindings.http to a provider (an HTTP server of the test's), for critical notifications of users who
/// gave a number in their preferences. The refusal test changes what the provider answers, so these run one at a time.
/// </summary>
[Collection(SmsCollection.Name)]
public sealed class SmsTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string NewId() => Guid.NewGuid().ToString();

    private Task<SignedInUser> WithNumberAsync(string number) => platform.SignUpWithPreferencesAsync(new NotificationPreferences { SmsNumber = number }, "sms_number");

    private static BalanceLow Low(string userId) => new()
    {
        UserId = userId, Available = new Ovasabi.Common.V1.Money { CurrencyCode = "EUR", DecimalAmount = "3.00" }, Threshold = new Ovasabi.Common.V1.Money { CurrencyCode = "EUR", DecimalAmount = "10.00" },
    };

    [Fact]
    public async Task A_low_balance_texts_the_users_number_as_json_with_an_idempotency_key_and_records_it_sent()
    {
        var user = await WithNumberAsync("+33612345678");

        await platform.PublishAsFinanceAsync(FinanceTopic.BalanceLow, Low(user.Id), NewId());

        var request = await platform.Sms.WaitForAsync(r => r.Body.Contains("+33612345678", StringComparison.Ordinal), Cancel);
        Assert.Equal(("POST", "/sms"), (request.Method, request.Path));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("+33612345678", body.RootElement.GetProperty("to").GetString());
        Assert.Equal("Ovasabi: your balance is 3.00 EUR, below your alert threshold of 10.00 EUR.", body.RootElement.GetProperty("body").GetString());
        var id = body.RootElement.GetProperty("id").GetString()!;
        Assert.Equal(id, request.Headers["Idempotency-Key"]);
        var message = await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = id }, cancellationToken: Cancel).ResponseAsync,
            m => m.Status == MessageStatus.Sent, what: "the SMS to be recorded sent");
        Assert.Equal((Channel.Sms, "sms", "accepted"), (message.Channel, message.History[^1].Binding, message.History[^1].Outcome));
    }

    [Fact]
    public async Task Nine_low_balances_at_once_leave_the_sms_binding_no_faster_than_its_rate_of_four_a_second()
    {
        var numbers = Enumerable.Range(0, 9).Select(i => $"+336123{Random.Shared.Next(1000, 9999)}{i}").ToList();
        var users = await Task.WhenAll(numbers.Select(WithNumberAsync));

        await Task.WhenAll(users.Select(u => platform.PublishAsFinanceAsync(FinanceTopic.BalanceLow, Low(u.Id), NewId())));

        var received = await Task.WhenAll(numbers.Select(n => platform.Sms.WaitForAsync(r => r.Body.Contains(n, StringComparison.Ordinal), Cancel)));
        var span = received.Max(r => r.ReceivedAt) - received.Min(r => r.ReceivedAt);
        // Eight intervals of a quarter second at least, however fast the rest of the platform is.
        Assert.True(span >= TimeSpan.FromSeconds(8.0 / NotificationPlatform.SmsPerSecond) - TimeSpan.FromMilliseconds(100), $"nine SMS within {span.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_user_without_a_number_gets_no_sms_and_the_record_says_why()
    {
        var user = await platform.SignUpAsync();

        await platform.PublishAsFinanceAsync(FinanceTopic.BalanceLow, Low(user.Id), NewId());

        var sms = await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).ListMessagesAsync(new ListMessagesRequest { Channels = { Channel.Sms } }, cancellationToken: Cancel).ResponseAsync,
            r => r.Messages.Count > 0, what: "the SMS record");
        Assert.Equal((MessageStatus.Suppressed, "no_address"), (sms.Messages[0].Status, sms.Messages[0].StatusReason));
    }

    [Fact]
    public async Task A_provider_that_refuses_a_number_with_a_4xx_fails_the_sms_at_once_and_keeps_its_answer()
    {
        var user = await WithNumberAsync("+14155550123");
        platform.Sms.StatusCode = StatusCodes.BadRequest;
        try
        {
            await platform.PublishAsFinanceAsync(FinanceTopic.BalanceLow, Low(user.Id), NewId());
            var failed = await Rpc.EventuallyAsync(
                () => platform.Notification(user.AccessToken).ListMessagesAsync(new ListMessagesRequest { Channels = { Channel.Sms }, Statuses = { MessageStatus.Failed } }, cancellationToken: Cancel).ResponseAsync,
                r => r.Messages.Count > 0, what: "the SMS to fail");
            var record = await platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = failed.Messages[0].MessageId }, cancellationToken: Cancel);
            Assert.Equal((1, "permanent"), (record.AttemptCount, record.History[^1].Outcome));
            Assert.Contains("received status code 400", record.StatusReason, StringComparison.Ordinal);
        }
        finally
        {
            platform.Sms.StatusCode = StatusCodes.Accepted;
        }
    }

    [Theory]
    [InlineData("0612345678")]
    [InlineData("+33 6 12 34 56 78")]
    [InlineData("+1234")]
    [InlineData("+999999999999")]
    [InlineData("tel:+33612345678")]
    public async Task A_number_that_is_not_E164_is_InvalidArgument_and_nothing_is_stored(string number)
    {
        var user = await platform.SignUpAsync();
        var refused = await Assert.ThrowsAsync<RpcException>(() => platform.Notification(user.AccessToken).UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { SmsNumber = number }, UpdateMask = new FieldMask { Paths = { "sms_number" } },
        }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal(["preferences.sms_number"], Rpc.Violations(refused).Select(v => v.Field));
        Assert.Equal(0, (await platform.Notification(user.AccessToken).GetPreferencesAsync(new GetPreferencesRequest(), cancellationToken: Cancel)).Version);
    }

    private static class StatusCodes
    {
        public const int Accepted = 202, BadRequest = 400;
    }
}

/// <summary>The classes that change what the platform's SMS provider answers.</summary>
[CollectionDefinition(Name)]
public sealed class SmsCollection
{
    public const string Name = "the platform's SMS provider";
}
