using System.Reflection;
using System.Text.Encodings.Web;
using Fluid;
using YamlDotNet.Serialization;

namespace Ovasabi.Notification.Domain;

/// <summary>A message as its channel shows it: a title (an email's subject) and plain text, in <see cref="Locale"/>.</summary>
public sealed record RenderedMessage(string Title, string Text, string Locale);

/// <summary>
/// The shipped Liquid templates (<c>Templates/&lt;notification key&gt;.yaml</c>, embedded): per channel and locale a
/// title and a text. A locale falls back to its language, then to <see cref="DefaultLocale"/>, which every template has.
/// </summary>
public sealed class TemplateCatalog
{
    public const string DefaultLocale = "en";

    private static readonly FluidParser Parser = new();

    private readonly Dictionary<(string Key, string Channel, string Locale), (IFluidTemplate Title, IFluidTemplate Text)> _templates;

    private TemplateCatalog(Dictionary<(string, string, string), (IFluidTemplate, IFluidTemplate)> templates)
    {
        _templates = templates;
    }

    /// <summary>Every notification key with a template.</summary>
    public IReadOnlySet<string> Keys => _templates.Keys.Select(k => k.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The locales <paramref name="key"/> has on <paramref name="channel"/>.</summary>
    public IEnumerable<string> Locales(string key, string channel) =>
        _templates.Keys.Where(k => k.Key == key && k.Channel == channel).Select(k => k.Locale);

    /// <summary>Loads the templates embedded in this assembly.</summary>
    /// <exception cref="InvalidOperationException">a template does not parse, or lacks the default locale: a build defect</exception>
    public static TemplateCatalog LoadEmbedded()
    {
        var assembly = typeof(TemplateCatalog).Assembly;
        var sources = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith("templates/", StringComparison.Ordinal))
            .Select(name => (Key: Path.GetFileNameWithoutExtension(name["templates/".Length..]), Yaml: Read(assembly, name)));
        return Load(sources);
    }

    /// <summary>Loads templates from YAML texts keyed by notification key.</summary>
    /// <exception cref="InvalidOperationException">a template does not parse, or lacks the default locale</exception>
    public static TemplateCatalog Load(IEnumerable<(string Key, string Yaml)> sources)
    {
        var deserializer = new DeserializerBuilder().Build();
        var templates = new Dictionary<(string, string, string), (IFluidTemplate, IFluidTemplate)>();
        foreach (var (key, yaml) in sources)
        {
            var channels = deserializer.Deserialize<Dictionary<string, Dictionary<string, Dictionary<string, string>>>>(yaml);
            foreach (var (channel, locales) in channels)
            {
                if (!locales.ContainsKey(DefaultLocale))
                {
                    throw new InvalidOperationException($"template {key} has no {DefaultLocale} version for {channel}");
                }
                foreach (var (locale, parts) in locales)
                {
                    templates[(key, channel, locale)] = (Parse(key, channel, locale, parts, "title"), Parse(key, channel, locale, parts, "text"));
                }
            }
        }
        return new TemplateCatalog(templates);
    }

    /// <summary>
    /// Renders <paramref name="key"/> for <paramref name="channel"/> in <paramref name="locale"/> (or the nearest it
    /// has), as plain text; null when the key has no template for the channel.
    /// </summary>
    public RenderedMessage? Render(string key, string channel, string? locale, IReadOnlyDictionary<string, object?> data)
    {
        foreach (var candidate in Fallbacks(locale))
        {
            if (_templates.TryGetValue((key, channel, candidate), out var template))
            {
                var context = new TemplateContext();
                foreach (var (name, value) in data)
                {
                    context.SetValue(name, value ?? "");
                }
                return new RenderedMessage(OneLine(template.Title.Render(context, NullEncoder.Default)), template.Text.Render(context, NullEncoder.Default).Trim(), candidate);
            }
        }
        return null;
    }

    /// <summary><c>fr-CA</c>, then <c>fr</c>, then the default locale.</summary>
    private IEnumerable<string> Fallbacks(string? locale)
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

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IFluidTemplate Parse(string key, string channel, string locale, Dictionary<string, string> parts, string part)
    {
        if (!parts.TryGetValue(part, out var source))
        {
            throw new InvalidOperationException($"template {key} ({channel}, {locale}) has no {part}");
        }
        return Parser.TryParse(source, out var template, out var error)
            ? template
            : throw new InvalidOperationException($"template {key} ({channel}, {locale}) {part}: {error}");
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
