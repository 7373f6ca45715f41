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

public sealed class EmailRouteOptionsTests
{
    [Fact]
    public void A_category_with_a_route_uses_it_and_the_others_the_default_chain()
    {
        var options = new NotificationOptions { EmailFallbacks = ["backup"], EmailRoutes = { ["announcements"] = ["relay", "email"] } };

        Assert.Equal(["relay", "email"], options.EmailChainFor("announcements"));
        Assert.Equal(["email", "backup"], options.EmailChainFor("transactions"));
    }

    [Fact]
    public void A_route_for_an_unknown_category_an_empty_route_a_relay_without_host_or_sender_and_a_repeated_webhook_binding_are_named_at_start()
    {
        var options = new NotificationOptions
        {
            EmailRoutes = { ["gossip"] = ["email"], ["account"] = [] },
            SmtpRelays = { ["relay"] = new SmtpRelay { Port = 0, Security = "ssl", From = "not an address" } },
            WebhookBindings = ["hooks", "hooks"],
        };

        Assert.Equal([
            "Notification:SmtpRelays:relay:Host: must name the SMTP server",
            "Notification:SmtpRelays:relay:Port: must be a TCP port",
            "Notification:SmtpRelays:relay:Security: must be auto, starttls, tls or none",
            "Notification:SmtpRelays:relay:From: must be an email address, e.g. Ovasabi <no-reply@example.com>",
            "Notification:EmailRoutes:gossip: must be a category: account, transactions, balance_alerts, security, announcements",
            "Notification:EmailRoutes:account: must name bindings or relays, each once",
            "Notification:WebhookBindings: must name bindings, each once",
        ], NotificationOptions.Problems(options));
    }
}

public sealed class BindingRateOptionsTests
{
    [Fact]
    public void A_rate_of_zero_or_a_burst_of_zero_is_named_at_start()
    {
        var options = new NotificationOptions { BindingRates = { ["email"] = new BindingRate { PerSecond = 0 }, ["sms"] = new BindingRate { PerSecond = 5, Burst = 0 } } };

        Assert.Equal(["Notification:BindingRates:email:PerSecond: must be more than 0 and at most 10000", "Notification:BindingRates:sms:Burst: must be between 1 and 10000"],
            NotificationOptions.Problems(options));
    }
}
