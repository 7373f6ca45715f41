using Xunit;
using Dapr.Client;

namespace Ovasabi.Testing.Sidecars;

/// <summary>
/// A class fixture that starts sidecars and apps: it owns a resources folder and everything it hands to
/// <see cref="Own{T}(T)"/>, and disposes them in reverse order — also when <see cref="StartAsync"/> fails half-way.
/// A fixture only says what it starts.
/// </summary>
public abstract class SidecarFixture : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    protected SidecarFixture()
    {
        Resources = NewFolder();
    }

    /// <summary>The resources folder the fixture's sidecars read.</summary>
    public ResourceFolder Resources { get; }

    /// <summary>Starts what the fixture serves, handing each started thing to <see cref="Own{T}(T)"/>.</summary>
    protected abstract Task StartAsync();

    public async ValueTask InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Disposes <paramref name="owned"/> with the fixture: last owned, first disposed.</summary>
    protected T Own<T>(T owned) where T : IAsyncDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    /// <summary>Owns each of <paramref name="owned"/> (sidecars started side by side).</summary>
    protected T[] Own<T>(T[] owned) where T : IAsyncDisposable
    {
        foreach (var item in owned)
        {
            Own(item);
        }
        return owned;
    }

    /// <summary>A Dapr SDK client of <paramref name="sidecar"/>, disposed with the fixture.</summary>
    protected DaprClient ClientOf(SidecarProcess sidecar, string? apiToken = null)
    {
        var client = sidecar.CreateClient(apiToken);
        Own(new Disposal(client));
        return client;
    }

    /// <summary>Another temporary folder (callee resources, configuration files), deleted with the fixture.</summary>
    protected ResourceFolder NewFolder()
    {
        var folder = new ResourceFolder();
        Own(new Disposal(folder));
        return folder;
    }

    /// <summary>
    /// Disposes what is owned, newest first, each even if an earlier one threw; safe after a failed start and when
    /// called again.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        List<Exception>? errors = null;
        while (_owned.Count > 0)
        {
            var last = _owned[^1];
            _owned.RemoveAt(_owned.Count - 1);
            try
            {
                await last.DisposeAsync();
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }
        GC.SuppressFinalize(this);
        if (errors is not null)
        {
            throw new AggregateException(errors);
        }
    }

    private sealed class Disposal(IDisposable disposable) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            disposable.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
