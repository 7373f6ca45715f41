namespace Ovasabi.ServiceDefaults.Events;

/// <summary>
/// Wakes one in-process worker that otherwise sleeps between looks (the outbox dispatcher, an app's sender): any
/// number of signals before it looks again count as one.
/// </summary>
public class Wakeup
{
    private readonly SemaphoreSlim _pending = new(0, 1);

    public void Notify()
    {
        // Already signalled is the common case under load: checked first, since the exception costs more than the signal.
        if (_pending.CurrentCount > 0)
        {
            return;
        }
        try
        {
            _pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // Signalled by another thread in between.
        }
    }

    /// <summary>Waits for a signal or <paramref name="timeout"/>, whichever comes first; true when signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _pending.WaitAsync(timeout, cancellationToken);
}
