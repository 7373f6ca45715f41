namespace Ovasabi.Testing;

/// <summary>A server binary the tests need is not installed; the message says how to fix that.</summary>
public sealed class ToolNotFoundException(string tool)
    : Exception($"{tool} not found: run `make deps`")
{
    public string Tool { get; } = tool;
}
