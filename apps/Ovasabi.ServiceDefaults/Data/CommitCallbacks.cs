using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace Ovasabi.ServiceDefaults.Data;

/// <summary>
/// Runs what a unit of work asked for once its writes are visible to others: after the surrounding transaction
/// commits (nothing when it rolls back), or after SaveChanges when there is none. Behind
/// <see cref="ServiceDbContext.AfterCommit"/>; e.g. waking the worker that sends what was just written.
/// </summary>
public sealed class CommitCallbacks : IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbTransaction, List<Action>> _pending = [];

    internal void Add(DbContext context, Action callback)
    {
        if (context.Database.CurrentTransaction?.GetDbTransaction() is { } transaction)
        {
            _pending.GetOrCreateValue(transaction).Add(callback);
            return;
        }
        void Once(object? sender, SavedChangesEventArgs e)
        {
            context.SavedChanges -= Once;
            callback();
        }
        context.SavedChanges += Once;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Run(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Run(transaction);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => _pending.Remove(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _pending.Remove(transaction);
        return Task.CompletedTask;
    }

    private void Run(DbTransaction transaction)
    {
        if (_pending.TryGetValue(transaction, out var callbacks))
        {
            _pending.Remove(transaction);
            foreach (var callback in callbacks)
            {
                callback();
            }
        }
    }
}
