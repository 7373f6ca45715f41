using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>A template version as the API shows it; <see cref="Version"/> 0 is the shipped one.</summary>
public sealed record TemplateView(string Key, string Channel, string Locale, int Version, TemplateSource Source, string CreatedBy, DateTimeOffset? CreatedAt);

/// <summary>Stored versions parsed once per replica: a version never changes, so its id is a safe cache key.</summary>
public sealed class ParsedTemplates
{
    private readonly ConcurrentDictionary<long, TemplateParts> _parsed = new();

    public TemplateParts Get(long versionId, TemplateSource source) => _parsed.GetOrAdd(versionId, _ => TemplateCatalog.Parse(source));
}

/// <summary>
/// Templates administrators stored over the shipped ones: appended as immutable versions, the current one named on the
/// template row (changed under the caller's expected version), read at each admission so every replica uses the
/// newest at once.
/// </summary>
public sealed class TemplateStore(NotificationDbContext db, TemplateCatalog catalog, ParsedTemplates parsed, TimeProvider time)
{
    public const int PageSize = 50;

    /// <summary>The current stored version of each channel and locale of <paramref name="key"/>, parsed.</summary>
    public async Task<Dictionary<(string Channel, string Locale), StoredTemplate>> CurrentAsync(string key, CancellationToken cancellationToken)
    {
        var rows = await (from t in db.Templates
                          join v in db.TemplateVersions on new { TemplateId = t.Id, Version = t.CurrentVersion } equals new { v.TemplateId, v.Version }
                          where t.Key == key
                          select new { t.Channel, t.Locale, v.Id, v.Version, v.Title, v.Text, v.Html }).AsNoTracking().ToListAsync(cancellationToken);
        return rows.ToDictionary(r => (r.Channel, r.Locale), r => new StoredTemplate(r.Version, parsed.Get(r.Id, new TemplateSource(r.Title, r.Text, r.Html))));
    }

    /// <summary>Version <paramref name="version"/> (0: the current one, stored or shipped), or null.</summary>
    public async Task<TemplateView?> GetAsync(string key, string channel, string locale, int version, CancellationToken cancellationToken)
    {
        var template = await db.Templates.AsNoTracking().FirstOrDefaultAsync(t => t.Key == key && t.Channel == channel && t.Locale == locale, cancellationToken);
        var wanted = version == 0 ? template?.CurrentVersion ?? 0 : version;
        if (wanted == 0)
        {
            return catalog.Shipped(key, channel, locale) is { } shipped ? new TemplateView(key, channel, locale, 0, shipped, "", null) : null;
        }
        var row = template is null ? null : await db.TemplateVersions.AsNoTracking().FirstOrDefaultAsync(v => v.TemplateId == template.Id && v.Version == wanted, cancellationToken);
        return row is null ? null : View(template!, row);
    }

    /// <summary>Stored versions, newest first, before <paramref name="beforeVersion"/> (0: all).</summary>
    public async Task<List<TemplateView>> ListVersionsAsync(string key, string channel, string locale, int beforeVersion, CancellationToken cancellationToken)
    {
        var template = await db.Templates.AsNoTracking().FirstOrDefaultAsync(t => t.Key == key && t.Channel == channel && t.Locale == locale, cancellationToken);
        if (template is null)
        {
            return [];
        }
        var rows = await db.TemplateVersions.AsNoTracking()
            .Where(v => v.TemplateId == template.Id && (beforeVersion == 0 || v.Version < beforeVersion))
            .OrderByDescending(v => v.Version).Take(PageSize).ToListAsync(cancellationToken);
        return rows.Select(v => View(template, v)).ToList();
    }

    /// <summary>Appends a version after <paramref name="expectedVersion"/> and makes it current.</summary>
    /// <exception cref="VersionConflictException">the current version is another (someone stored one meanwhile)</exception>
    public async Task<TemplateView> PutAsync(string key, string channel, string locale, TemplateSource source, int expectedVersion, string actor,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var template = await db.Templates.FirstOrDefaultAsync(t => t.Key == key && t.Channel == channel && t.Locale == locale, cancellationToken);
        var current = template?.CurrentVersion ?? 0;
        if (current != expectedVersion)
        {
            throw new VersionConflictException("the template", expectedVersion, current);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (template is null)
        {
            template = new TemplateRecord { Key = key, Channel = channel, Locale = locale };
            db.Templates.Add(template);
        }
        template.CurrentVersion = current + 1;
        template.UpdatedAt = now;
        var version = new TemplateVersionRecord { Version = current + 1, Title = source.Title, Text = source.Text, Html = source.Html, CreatedBy = actor, CreatedAt = now };
        try
        {
            // Two writers that read the same version meet on the unique (template, version) index: the second changes nothing.
            await db.SaveChangesAsync(cancellationToken);
            version.TemplateId = template.Id;
            db.TemplateVersions.Add(version);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e is DbUpdateConcurrencyException || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new VersionConflictException("the template", expectedVersion, expectedVersion + 1);
        }
        return View(template, version);
    }

    private static TemplateView View(TemplateRecord template, TemplateVersionRecord v) =>
        new(template.Key, template.Channel, template.Locale, v.Version, new TemplateSource(v.Title, v.Text, v.Html), v.CreatedBy, v.CreatedAt);
}
