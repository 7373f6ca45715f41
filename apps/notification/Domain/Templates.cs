using System.Reflection;
using System.Text.Encodings.Web;
using Fluid;
using System.Text.RegularExpressions;
using Fluid.Values;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Text;
using YamlDotNet.Serialization;

namespace Ovasabi.Notification.Domain;

/// <summary>
/// A message as its channel shows it, in <see cref="Locale"/>: a title (an email's subject), plain text, and for email
/// an HTML body (the template's HTML inside the email layout).
/// </summary>
public sealed record RenderedMessage(string Title, string Text, string? Html, string Locale, int Version = 0);

/// <summary>The Liquid text of a template's parts; <see cref="Html"/> only for email.</summary>
public sealed record TemplateSource(string Title, string Text, string? Html);

/// <summary>A template parsed once: its source and the parts ready to render.</summary>
public sealed record TemplateParts(TemplateSource Source, IFluidTemplate Title, IFluidTemplate Text, IFluidTemplate? Html);

/// <summary>A version an administrator stored (version 0 is the one the service ships), parsed.</summary>
public sealed record StoredTemplate(int Version, TemplateParts Parts);

/// <summary>What is wrong with a part of a template, where: <c>html: line 3, column 15: unknown variable 'usr'</c>.</summary>
public sealed record TemplateProblem(string Part, int Line, int Column, string Message)
{
    public override string ToString() => $"{Part}: line {Line}, column {Column}: {Message}";
}

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

    /// <summary>Bounds on what a template may cost to render (an administrator's loop must not stall delivery).</summary>
    private static readonly TemplateOptions RenderOptions = new TemplateOptionsBuilder()
        .WithMaxSteps(10_000).WithMaxRecursion(20).WithMaxOutputSize(262_144).WithStrictFilters(true).Build();

    private const string SubjectVariable = "subject", UnsubscribeVariable = "unsubscribe_url";

    private const string ContentMarker = "{{ content }}";

    private readonly Dictionary<(string Key, string Channel, string Locale), TemplateParts> _templates;
    private readonly (IFluidTemplate Before, IFluidTemplate After) _layout;

    private TemplateCatalog(Dictionary<(string, string, string), TemplateParts> templates, (IFluidTemplate, IFluidTemplate) layout)
    {
        _templates = templates;
        _layout = layout;
    }

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
        var templates = new Dictionary<(string, string, string), TemplateParts>();
        var variables = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (key, yaml) in sources)
        {
            // The data's names: those output tags and loops read, less the names loops and assigns bind.
            var bound = BoundName().Matches(yaml).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            variables[key] = [.. VariableReference().Matches(yaml).Concat(LoopSource().Matches(yaml)).Select(m => m.Groups[1].Value).Where(name => !bound.Contains(name))];
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
                    var source = new TemplateSource(Part(where, parts, "title"), Part(where, parts, "text"), channel == EmailChannel ? Part(where, parts, "html") : null);
                    templates[(key, channel, locale)] = Compile(source) is ({ } compiled, _) ? compiled : throw new InvalidOperationException($"{where}: {Compile(source).Problems[0]}");
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
        var catalog = new TemplateCatalog(templates, (Parser.Parse(layout["before"]), Parser.Parse(layout["after"])));
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
    /// <remarks>A version in <paramref name="stored"/> (by channel and locale) wins over the shipped template of its locale.</remarks>
    public RenderedMessage? Render(string key, string channel, string? locale, IReadOnlyDictionary<string, object?> data, string? unsubscribeUrl = null,
        IReadOnlyDictionary<(string Channel, string Locale), StoredTemplate>? stored = null)
    {
        foreach (var candidate in Fallbacks(locale))
        {
            if (stored is not null && stored.TryGetValue((channel, candidate), out var newer))
            {
                try
                {
                    return Render(newer.Parts, candidate, newer.Version, data, unsubscribeUrl);
                }
                catch (Exception e) when (e is FluidException or InvalidOperationException)
                {
                    // A stored version that breaks on real data (a loop past the step limit) must not stop delivery:
                    // the message goes out as if it were not stored (the shipped template of this locale, or the
                    // next fallback), and its record says which version that was.
                }
            }
            if (_templates.TryGetValue((key, channel, candidate), out var shipped))
            {
                return Render(shipped, candidate, 0, data, unsubscribeUrl);
            }
        }
        return null;
    }

    private RenderedMessage Render(TemplateParts template, string locale, int version, IReadOnlyDictionary<string, object?> data, string? unsubscribeUrl)
    {
        var context = new TemplateContext(RenderOptions);
        foreach (var (name, value) in data)
        {
            context.SetValue(name, value ?? "");
        }
        var title = OneLine(template.Title.Render(context, NullEncoder.Default));
        var text = template.Text.Render(context, NullEncoder.Default).Trim();
        string? html = null;
        if (template.Html is { } body)
        {
            context.SetValue(SubjectVariable, title);
            if (unsubscribeUrl is not null)
            {
                context.SetValue(UnsubscribeVariable, unsubscribeUrl);
            }
            html = _layout.Before.Render(context, HtmlEncoder.Default) + body.Render(context, HtmlEncoder.Default).Trim() + _layout.After.Render(context, HtmlEncoder.Default);
        }
        return new RenderedMessage(title, text, html, locale, version);
    }

    /// <summary>The locales <paramref name="key"/> ships a template in for <paramref name="channel"/>.</summary>
    public IEnumerable<string> Locales(string key, string channel) => _templates.Keys.Where(k => k.Key == key && k.Channel == channel).Select(k => k.Locale);

    /// <summary>The shipped template (version 0) of <paramref name="key"/> for the channel in exactly this locale, or null.</summary>
    public TemplateSource? Shipped(string key, string channel, string locale) => _templates.TryGetValue((key, channel, locale), out var parts) ? parts.Source : null;

    /// <summary>
    /// Parses an administrator's template for <paramref name="key"/>: each part must parse, and may name only the
    /// variables the notification's data has (the shipped templates' ones; in HTML also <c>subject</c> and
    /// <c>unsubscribe_url</c>). Problems come with the part, line and column they are at.
    /// </summary>
    public (TemplateParts? Parts, List<TemplateProblem> Problems) Compile(string key, TemplateSource source) => Compile(source, Variables(key));

    /// <summary>Parses a template that was checked when it was stored.</summary>
    /// <exception cref="InvalidOperationException">it does not parse (it was never checked)</exception>
    public static TemplateParts Parse(TemplateSource source) =>
        Compile(source) is ({ } parts, _) ? parts : throw new InvalidOperationException($"a stored template does not parse: {Compile(source).Problems[0]}");

    private static (TemplateParts? Parts, List<TemplateProblem> Problems) Compile(TemplateSource source, IReadOnlySet<string>? allowed = null)
    {
        var problems = new List<TemplateProblem>();
        var title = Check("title", source.Title, allowed, problems);
        var text = Check("text", source.Text, allowed, problems);
        var html = source.Html is null ? null : Check("html", source.Html, allowed is null ? null : new HashSet<string>(allowed) { SubjectVariable, UnsubscribeVariable }, problems);
        return problems.Count == 0 ? (new TemplateParts(source, title!, text!, html), problems) : (null, problems);
    }

    /// <summary>Parses one part; with <paramref name="allowed"/>, also renders it once to find the variables it names that the data will not have.</summary>
    private static IFluidTemplate? Check(string part, string source, IReadOnlySet<string>? allowed, List<TemplateProblem> problems)
    {
        IFluidTemplate template;
        try
        {
            template = Parser.Parse(source);
        }
        catch (ParseException e)
        {
            var message = e.Message.Split(" at (", 2)[0];
            problems.Add(new TemplateProblem(part, e.Position?.Line ?? 1, e.Position?.Column ?? 1, message.Length <= 120 ? message : message[..119] + "…"));
            return null;
        }
        if (allowed is null)
        {
            return template;
        }
        var unknown = new List<string>();
        var context = new TemplateContext(RenderOptions);
        foreach (var name in allowed)
        {
            // Anything for the model's names: only names outside it are the question here.
            context.SetValue(name, new Dictionary<string, object?>());
        }
        context.Undefined = (name, parent) =>
        {
            if (parent is null && !unknown.Contains(name))
            {
                unknown.Add(name);
            }
            return ValueTask.FromResult<FluidValue>(NilValue.Instance);
        };
        try
        {
            template.Render(context, NullEncoder.Default);
        }
        catch (Exception e) when (e is FluidException or InvalidOperationException)
        {
            // An unknown filter, a loop past the step limit: pointed at where the name it quotes stands, if it quotes one.
            var (line, column) = Regex.Match(e.Message, @"'(\w+)'", RegexOptions.CultureInvariant) is { Success: true } quoted ? PositionOf(source, quoted.Groups[1].Value) : (1, 1);
            problems.Add(new TemplateProblem(part, line, column, e.Message.Length <= 120 ? e.Message : e.Message[..119] + "…"));
        }
        foreach (var name in unknown.Take(5))
        {
            var (line, column) = PositionOf(source, name);
            problems.Add(new TemplateProblem(part, line, column, $"unknown variable '{ErrorText.Quote(name)}'; the data has {string.Join(", ", allowed.Order(StringComparer.Ordinal))}"));
        }
        return template;
    }

    /// <summary>Where <paramref name="name"/> first stands as a variable inside a tag (1-based line and column).</summary>
    private static (int Line, int Column) PositionOf(string source, string name)
    {
        foreach (Match tag in Tag().Matches(source))
        {
            var at = Regex.Match(tag.Value, $@"(?<![\w.]){Regex.Escape(name)}\b", RegexOptions.CultureInvariant);
            if (at.Success)
            {
                var offset = tag.Index + at.Index;
                var line = source.AsSpan(0, offset).Count('\n') + 1;
                return (line, offset - (source.LastIndexOf('\n', Math.Max(offset - 1, 0)) is var nl && nl >= 0 && nl < offset ? nl + 1 : 0) + 1);
            }
        }
        return (1, 1);
    }

    /// <summary><c>fr-CA</c>, then <c>fr</c>, then the default locale.</summary>
    private static IEnumerable<string> Fallbacks(string? locale)
    {
        if (!string.IsNullOrEmpty(locale) && LanguageTags.IsWellFormed(locale))
        {
            locale = LanguageTags.Canonical(locale);
            yield return locale;
            var dash = locale.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0)
            {
                yield return locale[..dash];
            }
        }
        yield return DefaultLocale;
    }

    // The start of an output tag: its first name is a variable of the model, or of a loop.
    [GeneratedRegex(@"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"\{%-?\s*for\s+[A-Za-z_][A-Za-z0-9_]*\s+in\s+([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex LoopSource();

    [GeneratedRegex(@"\{%-?\s*(?:for|assign|capture)\s+([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex BoundName();

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Part(string where, Dictionary<string, string> parts, string part) =>
        parts.TryGetValue(part, out var source) ? source : throw new InvalidOperationException($"{where} has no {part}");

    [GeneratedRegex(@"\{\{.*?\}\}|\{%.*?%\}", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex Tag();

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"{name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>The rules of template administration.</summary>
public static class TemplateRules
{
    /// <summary>A template's locale: required, and checked as a preference's is.</summary>
    public static string Locale(Validator validator, string field, string locale) => PreferenceRules.Locale(validator.Required(field, locale), field, locale);
}
