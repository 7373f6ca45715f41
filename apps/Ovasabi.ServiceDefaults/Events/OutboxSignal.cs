using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.ServiceDefaults.Events;

/// <summary>
/// Wakes the outbox dispatcher when this process committed new events, so they go out at once instead of at the next
/// poll (which still finds rows written by other replicas).
/// </summary>
public sealed class OutboxSignal : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly Wakeup _wakeup = new();
    private readonly ConditionalWeakTable<DbTransaction, object> _transactionsWithEvents = [];

    public void Notify() => _wakeup.Notify();

    /// <summary>Waits for a signal or the poll interval, whichever comes first; true when signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken) => _wakeup.WaitAsync(pollInterval, cancellationToken);

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        var context = eventData.Context;
        if (context is not null && context.ChangeTracker.Entries<ServiceEvent>().Any(e => e.State == EntityState.Added))
        {
            if (context.Database.CurrentTransaction?.GetDbTransaction() is { } transaction)
            {
                // Visible to the dispatcher only once the surrounding transaction commits.
                _transactionsWithEvents.AddOrUpdate(transaction, this);
            }
            else
            {
                context.SavedChanges += NotifyOnce;
            }
        }
        return ValueTask.FromResult(result);
    }

    private void NotifyOnce(object? sender, SavedChangesEventArgs e)
    {
        ((DbContext)sender!).SavedChanges -= NotifyOnce;
        Notify();
    }

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (_transactionsWithEvents.Remove(transaction))
        {
            Notify();
        }
        return Task.CompletedTask;
    }
}
