using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// Template administration through the API, seen in what messages then show. Other tests send announcements in
/// English at the same time, so these store templates only in locales no other test uses (German, Italian).
/// </summary>
public sealed class TemplateTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private const string Announcement = "platform.announcement";

    private NotificationService.NotificationServiceClient Admin => platform.Notification(platform.Admin.AccessToken);

    private static Struct Data(string title, string body) => new() { Fields = { ["title"] = Value.ForString(title), ["body"] = Value.ForString(body) } };

    private static PutTemplateRequest German(int expected, string subject) => new()
    {
        NotificationKey = Announcement, Channel = Channel.Email, Locale = "de", ExpectedVersion = expected,
        Title = subject + ": {{ title }}", Text = "{{ body }}", Html = "<h1>{{ title }}</h1>\n<p>{{ body }}</p>",
    };

    private Task<SignedInUser> SpeakingAsync(string locale) => platform.SignUpWithPreferencesAsync(new NotificationPreferences { Locale = locale }, "locale");

    private async Task<Message> EmailOfAsync(SignedInUser user, string title)
    {
        var sent = await Admin.SendAsync(new SendRequest { IdempotencyKey = Guid.NewGuid().ToString(), NotificationKey = Announcement, UserIds = { user.Id }, Data = Data(title, "Lies das.") },
            cancellationToken: Cancel);
        return await platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = Assert.Single(sent.Messages, m => m.Channel == Channel.Email).MessageId },
            cancellationToken: Cancel);
    }

    [Fact]
    public async Task A_template_stored_for_a_new_locale_reaches_users_of_that_locale_and_a_second_version_never_changes_what_the_first_rendered()
    {
        var shipped = await Admin.GetTemplateAsync(new GetTemplateRequest { NotificationKey = Announcement, Channel = Channel.Email, Locale = "en" }, cancellationToken: Cancel);
        Assert.Equal((0, "{{ title }}", ""), (shipped.Version, shipped.Title, shipped.CreatedBy));
        Assert.Equal(["body", "title"], shipped.Variables);
        var none = await Rpc.FailsAsync(StatusCode.NotFound, () => Admin.GetTemplateAsync(new GetTemplateRequest { NotificationKey = Announcement, Channel = Channel.Email, Locale = "de" }, cancellationToken: Cancel));
        Assert.Equal("TEMPLATE_NOT_FOUND", Rpc.Reason(none));

        var first = await Admin.PutTemplateAsync(German(0, "Mitteilung"), cancellationToken: Cancel);
        var stale = await Rpc.FailsAsync(StatusCode.FailedPrecondition, () => Admin.PutTemplateAsync(German(0, "Zu spät"), cancellationToken: Cancel));
        var user = await SpeakingAsync("de-AT");
        var before = await EmailOfAsync(user, "Wartung");

        var second = await Admin.PutTemplateAsync(German(1, "Hinweis"), cancellationToken: Cancel);
        var after = await EmailOfAsync(user, "Neu");

        Assert.Equal((1, 2, "VERSION_CONFLICT"), (first.Version, second.Version, Rpc.Reason(stale)));
        Assert.StartsWith("user:", first.CreatedBy, StringComparison.Ordinal);
        Assert.Equal(("Mitteilung: Wartung", "de", 1), (before.Subject, before.Locale, before.TemplateVersion));
        Assert.Equal(("Hinweis: Neu", 2), (after.Subject, after.TemplateVersion));
        var again = await platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = before.MessageId }, cancellationToken: Cancel);
        Assert.Equal(("Mitteilung: Wartung", 1), (again.Subject, again.TemplateVersion));
        var versions = await Admin.ListTemplateVersionsAsync(new ListTemplateVersionsRequest { NotificationKey = Announcement, Channel = Channel.Email, Locale = "de" }, cancellationToken: Cancel);
        Assert.Equal([2, 1], versions.Templates.Select(t => t.Version));
        var old = await Admin.GetTemplateAsync(new GetTemplateRequest { NotificationKey = Announcement, Channel = Channel.Email, Locale = "DE", Version = 1 }, cancellationToken: Cancel);
        Assert.Equal("Mitteilung: {{ title }}", old.Title);
        // An English reader still gets the shipped template.
        var english = await EmailOfAsync(await platform.SignUpAsync(), "Maintenance");
        Assert.Equal(("Maintenance", "en", 0), (english.Subject, english.Locale, english.TemplateVersion));
    }

    public static TheoryData<string, PutTemplateRequest, string, string> BadTemplates => new()
    {
        { "a tag left open on line 2", Italian(html: "<p>{{ body }}</p>\n<p>{{ title </p>"), "html", "line 2, column " },
        { "a variable the data does not have", Italian(html: "<p>{{ body }}</p>\n<p>Ciao {{ user.name }}</p>"), "html", "line 2, column 12: unknown variable 'user'" },
        { "an unknown filter", Italian(title: "{{ title | shout }}"), "title", "line 1, column 12: Undefined filter 'shout'" },
        { "a loop of a million steps", Italian(text: "{% for i in (1..1000000) %}x{% endfor %}"), "text", "line 1, column " },
        { "an unknown notification", Italian(key: "platform.gossip"), "notification_key", "must be one of " },
        { "a channel the notification does not have", Italian(channel: Channel.Sms), "channel", "must be one the notification has" },
        { "HTML for an in-app item", Italian(channel: Channel.InApp), "html", "is for email only" },
        { "no HTML for an email", Italian(html: ""), "html", "is required for email" },
        { "a locale with an underscore", Italian(locale: "it_IT"), "locale", "BCP 47" },
        { "no title", Italian(title: ""), "title", "is required" },
        { "a text of 1 MB", Italian(text: new string('x', 1 << 20)), "text", "" },
    };

    private static PutTemplateRequest Italian(string key = Announcement, Channel channel = Channel.Email, string locale = "it", string title = "{{ title }}",
        string text = "{{ body }}", string html = "<p>{{ body }}</p>") =>
        new() { NotificationKey = key, Channel = channel, Locale = locale, Title = title, Text = text, Html = channel == Channel.Email ? html : "<p>x</p>" };

    [Theory]
    [MemberData(nameof(BadTemplates))]
    public async Task A_bad_template_is_InvalidArgument_naming_the_part_and_where_and_nothing_is_stored(string tried, PutTemplateRequest request, string field, string description)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Admin.PutTemplateAsync(request, cancellationToken: Cancel));

        Assert.True(refused.StatusCode == StatusCode.InvalidArgument, $"{tried}: {refused.Status}");
        Assert.Contains(field, refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(description, refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(refused.Status.Detail.Length < 600, tried);
        Assert.Empty((await Admin.ListTemplateVersionsAsync(new ListTemplateVersionsRequest { NotificationKey = Announcement, Channel = Channel.Email, Locale = "it" }, cancellationToken: Cancel)).Templates);
    }

    [Fact]
    public async Task Preview_renders_a_draft_in_the_layout_with_the_datas_html_escaped_falls_back_from_fr_CA_to_fr_and_stores_nothing()
    {
        var draft = await Admin.PreviewTemplateAsync(new PreviewTemplateRequest
        {
            NotificationKey = Announcement, Channel = Channel.Email, Locale = "es", Title = "Aviso: {{ title }}", Text = "{{ body }}", Html = "<p>{{ body }}</p>",
            Data = Data("<Rebajas>", "<script>alert(1)</script>"),
        }, cancellationToken: Cancel);
        var welcome = await Admin.PreviewTemplateAsync(new PreviewTemplateRequest
        {
            NotificationKey = "account.welcome", Channel = Channel.InApp, Locale = "fr-CA",
            Data = new Struct { Fields = { ["user"] = Value.ForStruct(new Struct { Fields = { ["name"] = Value.ForString("Zoé") } }) } },
        }, cancellationToken: Cancel);
        // InvalidAsync asserts InvalidArgument naming data.body.
        await Rpc.InvalidAsync("data.body", () => Admin.PreviewTemplateAsync(new PreviewTemplateRequest
        {
            NotificationKey = Announcement, Channel = Channel.Email, Locale = "en", Data = new Struct { Fields = { ["title"] = Value.ForString("t") } },
        }, cancellationToken: Cancel));

        Assert.Equal(("Aviso: <Rebajas>", "es", 0), (draft.Title, draft.Locale, draft.Version));
        Assert.Contains("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", draft.Html, StringComparison.Ordinal);
        Assert.Contains("<html", draft.Html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("fr", welcome.Locale);
        Assert.Contains("Zoé", welcome.Title, StringComparison.Ordinal);
        Assert.Empty((await Admin.ListTemplateVersionsAsync(new ListTemplateVersionsRequest { NotificationKey = Announcement, Channel = Channel.Email, Locale = "es" }, cancellationToken: Cancel)).Templates);
    }
}
