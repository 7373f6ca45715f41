using System.Reflection;
using System.Text.Encodings.Web;
using Fluid;
using YamlDotNet.Serialization;

namespace Ovasabi.Notification.Domain;

/// <summary>
/// A message as its channel shows it, in <see cref="Locale"/>: a title (an email's subject), plain text, and for email
/// an HTML body (the template's HTML inside the email layout).
/// </summary>
public sealed record RenderedMessage(string Title, string Text, string? Html, string Locale);

/// <summary>
/// The shipped Liquid templates (<c>Templates/&lt;notification key&gt;.yaml</c>, embedded): per channel and locale a
/// title, a text and, for email, an HTML part. In HTML every value is escaped; the title and text are plain text. A
/// locale falls back to its language, then to <see cref="DefaultLocale"/>, which every template has.
/// </summary>
public sealed partial class TemplateCatalog
{
    public const string DefaultLocale = "en";
    public const string EmailChannel = "email";

    private const string LayoutResource = "templates/email-layout.html";
    private static readonly FluidParser Parser = new();

    private const string ContentMarker = "{{ content }}";

    private readonly Dictionary<(string Key, string Channel, string Locale), Parts> _templates;
    private readonly (IFluidTemplate Before, IFluidTemplate After) _layout;

    private TemplateCatalog(Dictionary<(string, string, string), Parts> templates, (IFluidTemplate, IFluidTemplate) layout)
    {
        _templates = templates;
        _layout = layout;
    }

    private sealed record Parts(IFluidTemplate Title, IFluidTemplate Text, IFluidTemplate? Html);

    private readonly Dictionary<string, SortedSet<string>> _variables = new(StringComparer.Ordinal);

    /// <summary>The top-level variables <paramref name="key"/>'s templates name (<c>{{ title }}</c>, <c>{{ user.name }}</c> → user).</summary>
    public IReadOnlySet<string> Variables(string key) => _variables.TryGetValue(key, out var names) ? names : new SortedSet<string>();

    /// <summary>Every notification key with a template.</summary>
    public IReadOnlySet<string> Keys => _templates.Keys.Select(k => k.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The channels <paramref name="key"/> has templates for.</summary>
    public IEnumerable<string> Channels(string key) => _templates.Keys.Where(k => k.Key == key).Select(k => k.Channel).Distinct();

    /// <summary>Loads the templates embedded in this assembly.</summary>
    /// <exception cref="InvalidOperationException">a template does not parse, or lacks a part or the default locale: a build defect</exception>
    public static TemplateCatalog LoadEmbedded()
    {
        var assembly = typeof(TemplateCatalog).Assembly;
        var sources = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith("templates/", StringComparison.Ordinal) && name.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(name => (Key: Path.GetFileNameWithoutExtension(name["templates/".Length..]), Yaml: Read(assembly, name)));
        return Load(sources, Read(assembly, LayoutResource));
    }

    /// <summary>Loads templates from YAML texts keyed by notification key, and the email layout (<c>{{ content }}</c> marks the body).</summary>
    /// <exception cref="InvalidOperationException">a template does not parse, or lacks a part or the default locale</exception>
    public static TemplateCatalog Load(IEnumerable<(string Key, string Yaml)> sources, string emailLayout)
    {
        var deserializer = new DeserializerBuilder().Build();
        var templates = new Dictionary<(string, string, string), Parts>();
        var variables = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (key, yaml) in sources)
        {
            variables[key] = [.. VariableReference().Matches(yaml).Select(m => m.Groups[1].Value)];
            var channels = deserializer.Deserialize<Dictionary<string, Dictionary<string, Dictionary<string, string>>>>(yaml);
            foreach (var (channel, locales) in channels)
            {
                if (!locales.ContainsKey(DefaultLocale))
                {
                    throw new InvalidOperationException($"template {key} has no {DefaultLocale} version for {channel}");
                }
                foreach (var (locale, parts) in locales)
                {
                    var where = $"template {key} ({channel}, {locale})";
                    templates[(key, channel, locale)] = new Parts(Parse(where, parts, "title"), Parse(where, parts, "text"),
                        channel == EmailChannel ? Parse(where, parts, "html") : null);
                }
            }
        }
        // The body is rendered (and escaped) already: the layout is the text around it.
        var marker = emailLayout.IndexOf(ContentMarker, StringComparison.Ordinal);
        if (marker < 0)
        {
            throw new InvalidOperationException($"the email layout has no {ContentMarker}");
        }
        var layout = new Dictionary<string, string> { ["before"] = emailLayout[..marker], ["after"] = emailLayout[(marker + ContentMarker.Length)..] };
        var catalog = new TemplateCatalog(templates, (Parse("the email layout", layout, "before"), Parse("the email layout", layout, "after")));
        foreach (var (key, names) in variables)
        {
            catalog._variables[key] = names;
        }
        return catalog;
    }

    /// <summary>
    /// Renders <paramref name="key"/> for <paramref name="channel"/> in <paramref name="locale"/> (or the nearest it
    /// has); null when the key has no template for the channel.
    /// </summary>
    /// <remarks>An email's layout shows <paramref name="unsubscribeUrl"/> when there is one (critical mail has none).</remarks>
    public RenderedMessage? Render(string key, string channel, string? locale, IReadOnlyDictionary<string, object?> data, string? unsubscribeUrl = null)
    {
        foreach (var candidate in Fallbacks(locale))
        {
            if (!_templates.TryGetValue((key, channel, candidate), out var template))
            {
                continue;
            }
            var context = new TemplateContext();
            foreach (var (name, value) in data)
            {
                context.SetValue(name, value ?? "");
            }
            var title = OneLine(template.Title.Render(context, NullEncoder.Default));
            var text = template.Text.Render(context, NullEncoder.Default).Trim();
            string? html = null;
            if (template.Html is { } body)
            {
                context.SetValue("subject", title);
                if (unsubscribeUrl is not null)
                {
                    context.SetValue("unsubscribe_url", unsubscribeUrl);
                }
                html = _layout.Before.Render(context, HtmlEncoder.Default) + body.Render(context, HtmlEncoder.Default).Trim() + _layout.After.Render(context, HtmlEncoder.Default);
            }
            return new RenderedMessage(title, text, html, candidate);
        }
        return null;
    }

    /// <summary><c>fr-CA</c>, then <c>fr</c>, then the default locale.</summary>
    private static IEnumerable<string> Fallbacks(string? locale)
    {
        if (!string.IsNullOrEmpty(locale))
        {
            yield return locale;
            var dash = locale.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0)
            {
                yield return locale[..dash];
            }
        }
        yield return DefaultLocale;
    }

    // The start of an output tag: its first name is a variable of the model (the shipped templates use no tags that bind names).
    [System.Text.RegularExpressions.GeneratedRegex(@"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex VariableReference();

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IFluidTemplate Parse(string where, Dictionary<string, string> parts, string part)
    {
        if (!parts.TryGetValue(part, out var source))
        {
            throw new InvalidOperationException($"{where} has no {part}");
        }
        return Parser.TryParse(source, out var template, out var error)
            ? template
            : throw new InvalidOperationException($"{where} {part}: {error}");
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"{name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
