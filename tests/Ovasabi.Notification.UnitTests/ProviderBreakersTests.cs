using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Delivery;
using Ovasabi.Notification.Domain;
using Polly.CircuitBreaker;

namespace Ovasabi.Notification.UnitTests;

public sealed class ProviderBreakersTests
{
    private static ProviderBreakers Breakers() =>
        new(Options.Create(new NotificationOptions { BreakDuration = TimeSpan.FromMinutes(1) }), NullLogger<ProviderBreakers>.Instance);

    private static ValueTask Fail(Exception error) => ValueTask.FromException(error);

    [Fact]
    public async Task Four_transient_failures_open_the_binding_so_the_next_call_is_skipped_without_reaching_it()
    {
        var breakers = Breakers();
        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<TransientProviderException>(() => breakers.ExecuteAsync("email", _ => Fail(new TransientProviderException("refused", new IOException())), CancellationToken.None).AsTask());
        }
        var reached = false;
        await Assert.ThrowsAsync<BrokenCircuitException>(() => breakers.ExecuteAsync("email", _ => { reached = true; return ValueTask.CompletedTask; }, CancellationToken.None).AsTask());
        Assert.False(reached);
        // Each binding has a breaker of its own: the fallback is still tried.
        await breakers.ExecuteAsync("email-fallback", _ => ValueTask.CompletedTask, CancellationToken.None);
    }

    [Fact]
    public async Task Permanent_refusals_for_one_recipient_never_open_the_binding()
    {
        var breakers = Breakers();
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => breakers.ExecuteAsync("email", _ => Fail(new InvalidOperationException("550 mailbox unavailable")), CancellationToken.None).AsTask());
        }
        await breakers.ExecuteAsync("email", _ => ValueTask.CompletedTask, CancellationToken.None);
    }
}
