using Ovasabi.Notification.Domain;

namespace Ovasabi.Notification.UnitTests;

public sealed class DeliveryRulesTests
{
    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(3, 120)]
    [InlineData(7, 1920)]
    [InlineData(8, 3600)]
    [InlineData(40, 3600)]
    public void The_backoff_starts_at_the_base_doubles_and_stops_at_the_maximum(int attempt, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), DeliveryRules.Backoff(attempt, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1)));
    }

    // The texts are daprd's bindings.smtp errors as the dev sidecar's contract tests pin them.
    [Theory]
    [InlineData("error invoking output binding email: gomail: could not send email 1: 550 5.1.1 mailbox unavailable", SendOutcome.Permanent)]
    [InlineData("error invoking output binding email: gomail: could not send email 1: gomail: invalid address \"a;b\": mail: expected single address", SendOutcome.Permanent)]
    [InlineData("error invoking output binding email: gomail: could not send email 1: 451 4.3.0 try again later", SendOutcome.Transient)]
    [InlineData("error invoking output binding email: dial tcp 127.0.0.1:1025: connect: connection refused", SendOutcome.Transient)]
    [InlineData("error invoking output binding email: EOF", SendOutcome.Transient)]
    [InlineData("something nobody has seen before", SendOutcome.Transient)]
    public void An_smtp_failure_is_permanent_only_for_a_5xx_answer_or_an_address_that_does_not_parse(string error, SendOutcome outcome)
    {
        Assert.Equal(outcome, DeliveryRules.ClassifySmtp(error));
    }

    // The texts are daprd's bindings.http errors as the dev sidecar's contract tests pin them.
    [Theory]
    [InlineData("error invoking output binding sms: received status code 400", SendOutcome.Permanent)]
    [InlineData("error invoking output binding sms: received status code 404", SendOutcome.Permanent)]
    [InlineData("error invoking output binding sms: received status code 408", SendOutcome.Transient)]
    [InlineData("error invoking output binding sms: received status code 429", SendOutcome.Transient)]
    [InlineData("error invoking output binding sms: received status code 503", SendOutcome.Transient)]
    [InlineData("error invoking output binding sms: Post \"http://127.0.0.1:9/sms\": dial tcp 127.0.0.1:9: connect: connection refused", SendOutcome.Transient)]
    public void An_http_failure_is_permanent_for_a_4xx_answer_except_timeout_and_too_many_requests(string error, SendOutcome outcome)
    {
        Assert.Equal(outcome, DeliveryRules.ClassifyHttp(error));
    }

    [Fact]
    public void A_reason_is_one_line_of_at_most_200_characters()
    {
        Assert.Equal("first second", DeliveryRules.Reason("first\r\n  second\n"));
        var long_ = DeliveryRules.Reason(new string('x', 500));
        Assert.Equal(200, long_.Length);
        Assert.EndsWith("…", long_, StringComparison.Ordinal);
    }
}

public sealed class WakeBucketTests
{
    [Theory]
    [InlineData("2026-12-07T12:00:00.000Z", "2026-12-07T12:00:00Z")]
    [InlineData("2026-12-07T12:00:00.001Z", "2026-12-07T12:00:05Z")]
    [InlineData("2026-12-07T12:00:04.999Z", "2026-12-07T12:00:05Z")]
    [InlineData("2026-12-07T12:00:05.000Z", "2026-12-07T12:00:05Z")]
    public void A_wake_up_is_the_end_of_its_bucket_never_before_the_due_time(string due, string wake)
    {
        Assert.Equal(DateTimeOffset.Parse(wake, System.Globalization.CultureInfo.InvariantCulture),
            Ovasabi.Notification.Delivery.WakeScheduler.Bucket(DateTimeOffset.Parse(due, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromSeconds(5)));
    }
}
