using Microsoft.EntityFrameworkCore;
using Ovasabi.Sample.Domain;
using Ovasabi.Sample.Events;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.Sample.Data;

/// <summary>Items in PostgreSQL; a creation and its event are written in one transaction (the outbox).</summary>
public sealed class ItemStore(SampleDbContext db, TimeProvider time)
{
    public async Task<ItemView> CreateAsync(Guid owner, string name, CancellationToken cancellationToken)
    {
        var item = new ItemRecord { Master = new MasterRecord { Type = "item", Name = name }, OwnerUserId = owner };
        db.Items.Add(item);
        var view = View(item);
        db.AddEvent(SampleEvents.ItemCreatedTopic, SampleEvents.ItemCreated(view, time.GetUtcNow()), item.Master);
        await db.SaveChangesAsync(cancellationToken);
        return View(item);
    }

    public async Task<ItemView?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await db.Items.AsNoTracking().Include(i => i.Master).FirstOrDefaultAsync(i => i.Master.Uuid == id, cancellationToken) is { } item ? View(item) : null;

    private static ItemView View(ItemRecord item) => new(item.Master.Uuid, item.OwnerUserId, item.Master.Name, item.Master.CreatedAt);
}
