using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Notification.Grpc;

/// <summary>The template RPCs of the notification API: administrators read, store and preview the templates messages are rendered with.</summary>
public sealed partial class NotificationGrpcService
{
    [Permission("notification.templates.read")]
    public override async Task<Template> GetTemplate(GetTemplateRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var (key, channel, locale) = TemplateOf(validator, request.NotificationKey, request.Channel, request.Locale);
        validator.Check("version", request.Version >= 0, "must be 0 (the current one) or a version number");
        validator.ThrowIfInvalid();
        var template = await templateVersions.GetAsync(key, channel, locale, request.Version, context.CancellationToken)
                       ?? throw new NotFoundException("template", $"{key}/{channel}/{locale}" + (request.Version > 0 ? $"@{request.Version}" : ""));
        return Map(template);
    }

    [Permission("notification.templates.update")]
    public override async Task<Template> PutTemplate(PutTemplateRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var (key, channel, locale) = TemplateOf(validator, request.NotificationKey, request.Channel, request.Locale);
        var source = Draft(validator, channel, request.Title, request.Text, request.Html);
        validator.Check("expected_version", request.ExpectedVersion >= 0, "must be the current version read (0 for the shipped one)");
        validator.ThrowIfInvalid();
        Checked(key, source);
        return Map(await templateVersions.PutAsync(key, channel, locale, source, request.ExpectedVersion, context.GetCaller().Actor, context.CancellationToken));
    }

    [Permission("notification.templates.read")]
    public override async Task<ListTemplateVersionsResponse> ListTemplateVersions(ListTemplateVersionsRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var (key, channel, locale) = TemplateOf(validator, request.NotificationKey, request.Channel, request.Locale);
        validator.Check("before_version", request.BeforeVersion >= 0, "must be 0 (from the newest) or a version number");
        validator.ThrowIfInvalid();
        var response = new ListTemplateVersionsResponse();
        response.Templates.AddRange((await templateVersions.ListVersionsAsync(key, channel, locale, request.BeforeVersion, context.CancellationToken)).Select(Map));
        return response;
    }

    [Permission("notification.templates.read")]
    public override async Task<RenderedTemplate> PreviewTemplate(PreviewTemplateRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var (key, channel, locale) = TemplateOf(validator, request.NotificationKey, request.Channel, request.Locale);
        var draft = request.Title.Length + request.Text.Length + request.Html.Length > 0 ? Draft(validator, channel, request.Title, request.Text, request.Html) : null;
        validator.Check("version", request.Version >= 0 && (draft is null || request.Version == 0), "must be 0 (the current one) or a version number, and 0 with a draft");
        var data = request.Data ?? new Struct();
        SendRules.Data(validator, "data", data.Fields.Keys.ToHashSet(StringComparer.Ordinal), templates.Variables(key));
        validator.ThrowIfInvalid();
        Dictionary<(string Channel, string Locale), StoredTemplate> stored;
        if (draft is not null)
        {
            stored = new() { [(channel, locale)] = new StoredTemplate(0, Checked(key, draft)) };
        }
        else if (request.Version > 0)
        {
            var version = await templateVersions.GetAsync(key, channel, locale, request.Version, context.CancellationToken)
                          ?? throw new NotFoundException("template", $"{key}/{channel}/{locale}@{request.Version}");
            stored = new() { [(channel, locale)] = new StoredTemplate(version.Version, TemplateCatalog.Parse(version.Source)) };
        }
        else
        {
            stored = await templateVersions.CurrentAsync(key, context.CancellationToken);
        }
        var rendered = templates.Render(key, channel, locale, TemplateData(data), channel == Channels.Email ? $"{options.Value.UnsubscribeUrl}?token=preview" : null, stored)!;
        return new RenderedTemplate { Title = rendered.Title, Text = rendered.Text, Html = rendered.Html ?? "", Locale = rendered.Locale, Version = rendered.Version };
    }

    /// <summary>A notification key with templates, one of its channels, a well-formed locale (in its usual case: fr-CA).</summary>
    private (string Key, string Channel, string Locale) TemplateOf(Validator validator, string key, Channel channel, string locale)
    {
        var known = templates.Keys.Contains(key);
        validator.Check("notification_key", known, $"must be one of {string.Join(", ", templates.Keys.Order(StringComparer.Ordinal))}");
        var name = ChannelNames.Stored(channel);
        validator.Check("channel", name is not null && (!known || templates.Channels(key).Contains(name)),
            known ? $"must be one the notification has: {string.Join(", ", templates.Channels(key).Select(c => ChannelNames.ToProto(c)))}" : "must be a channel");
        var tag = TemplateRules.Locale(validator, "locale", locale);
        return (key, name ?? "", tag);
    }

    /// <summary>The parts a channel has: a title and a text, and an HTML body for email only.</summary>
    private static TemplateSource Draft(Validator validator, string channel, string title, string text, string html)
    {
        validator.Required("title", title).Required("text", text);
        validator.Check("html", channel == Channels.Email ? html.Length > 0 : html.Length == 0, channel == Channels.Email ? "is required for email" : "is for email only");
        return new TemplateSource(title, text, channel == Channels.Email ? html : null);
    }

    /// <exception cref="InvalidArgumentException">a part does not parse or names a variable the data does not have, each problem a field violation</exception>
    private TemplateParts Checked(string key, TemplateSource source)
    {
        var (parts, problems) = templates.Compile(key, source);
        if (parts is null)
        {
            var validator = new Validator();
            foreach (var problem in problems)
            {
                validator.Add(problem.Part, $"line {problem.Line}, column {problem.Column}: {problem.Message}");
            }
            validator.ThrowIfInvalid();
        }
        return parts!;
    }

    private Template Map(TemplateView template)
    {
        var mapped = new Template
        {
            NotificationKey = template.Key,
            Channel = ChannelNames.ToProto(template.Channel),
            Locale = template.Locale,
            Version = template.Version,
            Title = template.Source.Title,
            Text = template.Source.Text,
            Html = template.Source.Html ?? "",
            CreatedBy = template.CreatedBy,
            CreateTime = template.CreatedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
        };
        mapped.Variables.AddRange(templates.Variables(template.Key));
        return mapped;
    }
}
