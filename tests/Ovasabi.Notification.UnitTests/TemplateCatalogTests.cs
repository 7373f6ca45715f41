using Ovasabi.Notification.Domain;

namespace Ovasabi.Notification.UnitTests;

public sealed class TemplateCatalogTests
{
    private static readonly TemplateCatalog Shipped = TemplateCatalog.LoadEmbedded();

    private static Dictionary<string, object?> TransferData() => new()
    {
        ["amount"] = "25.00 EUR",
        ["counterparty"] = new Dictionary<string, object?> { ["name"] = "alice" },
        ["transaction"] = new Dictionary<string, object?> { ["id"] = "tx-1" },
        ["occurred_at"] = "2026-12-07 09:30 UTC",
    };

    [Fact]
    public void Every_notification_the_triggers_make_the_announcement_and_the_digest_have_a_shipped_template()
    {
        Assert.Equal(["account.welcome", "digest.default", "finance.balance_low", "finance.deposit_completed", "finance.transfer_received", "finance.transfer_sent", "platform.announcement", "security.new_sign_in", "security.password_changed"],
            Shipped.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_template_renders_nested_facts_as_plain_text()
    {
        var rendered = Shipped.Render("finance.transfer_received", "in_app", null, TransferData())!;

        Assert.Equal(new RenderedMessage("alice sent you 25.00 EUR", "25.00 EUR from alice arrived on 2026-12-07 09:30 UTC (transaction tx-1).", null, "en"), rendered);
    }

    [Theory]
    [InlineData("fr-CA", "fr")]
    [InlineData("fr", "fr")]
    [InlineData("de-DE", "en")]
    [InlineData(null, "en")]
    public void A_locale_falls_back_to_its_language_then_to_english(string? locale, string used)
    {
        Assert.Equal(used, Shipped.Render("finance.transfer_received", "in_app", locale, TransferData())!.Locale);
    }

    [Fact]
    public void Markup_in_the_facts_is_kept_as_text_and_a_title_stays_on_one_line()
    {
        var data = TransferData();
        data["counterparty"] = new Dictionary<string, object?> { ["name"] = "<b>al\nice</b>" };

        Assert.Equal("<b>al ice</b> sent you 25.00 EUR", Shipped.Render("finance.transfer_received", "in_app", "en", data)!.Title);
    }

    [Fact]
    public void A_key_without_a_template_for_the_channel_renders_nothing()
    {
        Assert.Null(Shipped.Render("finance.transfer_received", "sms", "en", TransferData()));
    }

    [Fact]
    public void Every_notification_has_an_email_and_an_in_app_template_the_critical_ones_an_sms_too_and_the_digest_email_alone()
    {
        string[] critical = ["finance.balance_low", "security.new_sign_in", "security.password_changed"];
        Assert.All(Shipped.Keys.Where(key => key != "digest.default"),
            key => Assert.Equal(critical.Contains(key) ? ["email", "in_app", "sms"] : ["email", "in_app"], Shipped.Channels(key).Order(StringComparer.Ordinal)));
        // A digest gathers emails only.
        Assert.Equal(["email"], Shipped.Channels("digest.default"));
    }

    [Fact]
    public void An_email_is_html_escaped_inside_the_layout_while_its_subject_and_text_stay_plain()
    {
        var data = TransferData();
        data["counterparty"] = new Dictionary<string, object?> { ["name"] = "<script>alert('x')</script> & Co" };

        var email = Shipped.Render("finance.transfer_received", "email", "en", data)!;

        Assert.Equal("<script>alert('x')</script> & Co sent you 25.00 EUR", email.Title);
        Assert.Contains("from <script>alert('x')</script> & Co arrived", email.Text, StringComparison.Ordinal);
        Assert.Contains("<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co sent you <strong>25.00 EUR</strong>", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", email.Html, StringComparison.Ordinal);
        Assert.Contains("<title>&lt;script&gt;", email.Html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", email.Html, StringComparison.Ordinal);
    }

    private const string Layout = "<html>{{ content }}</html>";

    [Fact]
    public void A_template_that_does_not_parse_lacks_english_or_a_part_or_a_layout_without_content_is_refused_when_loaded()
    {
        var broken = Assert.Throws<InvalidOperationException>(() => TemplateCatalog.Load([("k.x", "in_app:\n  en:\n    title: \"{{ oops\"\n    text: t\n")], Layout));
        var noEnglish = Assert.Throws<InvalidOperationException>(() => TemplateCatalog.Load([("k.x", "in_app:\n  fr:\n    title: t\n    text: t\n")], Layout));
        var noHtml = Assert.Throws<InvalidOperationException>(() => TemplateCatalog.Load([("k.x", "email:\n  en:\n    title: t\n    text: t\n")], Layout));
        var noContent = Assert.Throws<InvalidOperationException>(() => TemplateCatalog.Load([], "<html></html>"));

        Assert.StartsWith("template k.x (in_app, en): title: line 1, column ", broken.Message, StringComparison.Ordinal);
        Assert.Equal("template k.x has no en version for in_app", noEnglish.Message);
        Assert.Equal("template k.x (email, en) has no html", noHtml.Message);
        Assert.Equal("the email layout has no {{ content }}", noContent.Message);
    }
}

public sealed class TemplateCompileTests
{
    private static readonly TemplateCatalog Catalog = TemplateCatalog.LoadEmbedded();

    [Fact]
    public void A_syntax_error_names_the_part_line_and_column()
    {
        var (parts, problems) = Catalog.Compile("platform.announcement", new TemplateSource("{{ title }}", "Hello\n{{ body ", null));

        Assert.Null(parts);
        var problem = Assert.Single(problems);
        Assert.Equal(("text", 2), (problem.Part, problem.Line));
        Assert.StartsWith("text: line 2, column ", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_variable_names_its_line_and_column_and_the_variables_there_are()
    {
        var (parts, problems) = Catalog.Compile("platform.announcement", new TemplateSource("{{ title }}", "{{ body }}", "<p>{{ body }}</p>\n<p>Hi {{ usr.name }}</p>"));

        Assert.Null(parts);
        Assert.Equal("html: line 2, column 10: unknown variable 'usr'; the data has body, subject, title, unsubscribe_url", Assert.Single(problems).ToString());
    }

    [Fact]
    public void Loops_assigns_and_the_layouts_variables_are_no_unknown_variables()
    {
        var (parts, problems) = Catalog.Compile("platform.announcement",
            new TemplateSource("{{ title | upcase }}", "{% assign t = title %}{{ t }} {% for w in body %}{{ w }}{% endfor %}", "<a href=\"{{ unsubscribe_url }}\">{{ subject }}</a>"));

        Assert.Empty(problems);
        Assert.NotNull(parts);
    }

    [Fact]
    public void An_unknown_filter_and_a_runaway_loop_are_problems_not_crashes()
    {
        var (_, filter) = Catalog.Compile("platform.announcement", new TemplateSource("{{ title | shout }}", "{{ body }}", null));
        var (_, loop) = Catalog.Compile("platform.announcement", new TemplateSource("{{ title }}", "{% for i in (1..1000000) %}x{% endfor %}", null));

        Assert.Equal("title: line 1, column 12: Undefined filter 'shout'", Assert.Single(filter).ToString());
        Assert.Equal("text", Assert.Single(loop).Part);
    }

    [Fact]
    public void A_stored_version_wins_over_the_shipped_template_of_its_locale_and_other_locales_keep_falling_back()
    {
        var (parts, _) = Catalog.Compile("platform.announcement", new TemplateSource("Annonce : {{ title }}", "{{ body }}", "<p>{{ body }}</p>"));
        var stored = new Dictionary<(string, string), StoredTemplate> { [("email", "fr")] = new StoredTemplate(3, parts!) };
        var data = new Dictionary<string, object?> { ["title"] = "<Soldes>", ["body"] = "<b>-50 %</b>" };

        var french = Catalog.Render("platform.announcement", "email", "fr-CA", data, stored: stored)!;
        var english = Catalog.Render("platform.announcement", "email", "en-GB", data, stored: stored)!;

        Assert.Equal(("Annonce : <Soldes>", "fr", 3), (french.Title, french.Locale, french.Version));
        Assert.Contains("<p>&lt;b&gt;-50 %&lt;/b&gt;</p>", french.Html, StringComparison.Ordinal);
        Assert.Equal(("en", 0), (english.Locale, english.Version));
    }
}

public sealed class DigestRulesTests
{
    [Fact]
    public void The_digest_templates_data_is_its_count_items_and_more_count_not_the_loops_own_name()
    {
        Assert.Equal(["count", "items", "more_count"], TemplateCatalog.LoadEmbedded().Variables("digest.default"));
    }

    [Fact]
    public void A_digest_key_alone_gets_ten_minutes_and_no_key_no_digest()
    {
        var validator = new Ovasabi.ServiceDefaults.Grpc.Validator();

        Assert.Equal(new DigestGroup("weekly", TimeSpan.FromMinutes(10)), SendRules.Digest(validator, "digest_key", "weekly", "digest_window", null));
        Assert.Null(SendRules.Digest(validator, "digest_key", "", "digest_window", null));
        validator.ThrowIfInvalid();
    }
}

public sealed class StoredTemplateFallbackTests
{
    [Fact]
    public void A_stored_version_that_breaks_on_real_data_gives_way_to_the_shipped_template()
    {
        var catalog = TemplateCatalog.LoadEmbedded();
        var runaway = TemplateCatalog.Parse(new TemplateSource("{% for i in (1..100000) %}x{% endfor %}", "{{ body }}", "<p>{{ body }}</p>"));
        var stored = new Dictionary<(string, string), StoredTemplate> { [("email", "en")] = new StoredTemplate(4, runaway) };

        var rendered = catalog.Render("platform.announcement", "email", "en", new Dictionary<string, object?> { ["title"] = "T", ["body"] = "B" }, stored: stored)!;

        Assert.Equal(("T", 0), (rendered.Title, rendered.Version));
    }

    [Fact]
    public void A_broken_stored_version_in_a_locale_the_service_does_not_ship_falls_back_to_the_default_locale()
    {
        var catalog = TemplateCatalog.LoadEmbedded();
        var runaway = TemplateCatalog.Parse(new TemplateSource("{% for i in (1..100000) %}x{% endfor %}", "{{ body }}", "<p>{{ body }}</p>"));
        var stored = new Dictionary<(string, string), StoredTemplate> { [("email", "de")] = new StoredTemplate(2, runaway) };

        var rendered = catalog.Render("platform.announcement", "email", "de-AT", new Dictionary<string, object?> { ["title"] = "T", ["body"] = "B" }, stored: stored)!;

        Assert.Equal(("T", 0, "en"), (rendered.Title, rendered.Version, rendered.Locale));
    }
}
