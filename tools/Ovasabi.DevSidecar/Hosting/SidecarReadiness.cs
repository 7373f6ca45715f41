namespace Ovasabi.DevSidecar.Hosting;

/// <summary>
/// daprd's two health states: outbound ready once components are loaded and the APIs serve (before the app is up),
/// ready once the app port answers and subscriptions started.
/// </summary>
public sealed class SidecarReadiness
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool OutboundReady { get; private set; }

    public bool Ready => _ready.Task.IsCompletedSuccessfully;

    public Task WhenReady => _ready.Task;

    public void MarkOutboundReady() => OutboundReady = true;

    public void MarkReady() => _ready.TrySetResult();
}
