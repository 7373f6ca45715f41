using Ovasabi.Notification.Domain;

namespace Ovasabi.Notification.UnitTests;

public sealed class NotificationOptionsTests
{
    [Fact]
    public void Email_and_sms_are_limited_by_default_and_in_app_items_never()
    {
        var options = new NotificationOptions();
        Assert.Equal((10, TimeSpan.FromHours(1)), (options.LimitOf(Channels.Email)!.Count, options.LimitOf(Channels.Email)!.Window));
        Assert.Equal(5, options.LimitOf(Channels.Sms)!.Count);
        Assert.Null(options.LimitOf(Channels.InApp));
        Assert.Empty(NotificationOptions.Problems(options));
    }

    [Fact]
    public void A_count_of_zero_lifts_the_limit()
    {
        Assert.Null(new NotificationOptions { EmailLimit = new RateLimit { Count = 0, Window = TimeSpan.FromHours(1) } }.LimitOf(Channels.Email));
    }

    [Fact]
    public void A_negative_count_or_a_window_out_of_range_is_named_at_start()
    {
        var options = new NotificationOptions
        {
            EmailLimit = new RateLimit { Count = -1, Window = TimeSpan.FromHours(1) },
            SmsLimit = new RateLimit { Count = 5, Window = TimeSpan.Zero },
        };
        Assert.Equal(["Notification:EmailLimit:Count: must not be negative", "Notification:SmsLimit:Window: must be between 1 second and 7 days"],
            NotificationOptions.Problems(options));
    }
}
