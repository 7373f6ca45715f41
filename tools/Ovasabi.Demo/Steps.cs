using System.Net.Sockets;
using Google.Rpc;
using Grpc.Core;
using Npgsql;

namespace Ovasabi.Demo;

/// <summary>A result that arrived but is not what the platform promises (a wrong balance, a missing event).</summary>
internal sealed class DemoCheckException(string message) : Exception(message);

/// <summary>Thrown once a step's failure is printed; ends the scenario.</summary>
internal sealed class StepFailedException : Exception;

/// <summary>Prints the scenario's steps (✓ / ✗) and the details under them, naming known IDs by their role (A, B, admin, ...).</summary>
internal sealed class Steps(TextWriter output, DemoOptions options)
{
    private const int TitleWidth = 52;

    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal);

    public int Passed { get; private set; }

    public void Name(string id, string label) => _labels[id] = label;

    public string Label(string id) => _labels.GetValueOrDefault(id, id);

    /// <summary>Who a transaction moved money for: "A → B" for a transfer, "A" otherwise.</summary>
    public string Parties(string userId, string counterpartyUserId) =>
        counterpartyUserId.Length == 0 ? Label(userId) : $"{Label(userId)} → {Label(counterpartyUserId)}";

    /// <summary><paramref name="text"/> with every known ID replaced by its label.</summary>
    public string Labelled(string text) => _labels.Aggregate(text, (current, label) => current.Replace(label.Key, label.Value, StringComparison.Ordinal));

    public void Detail(string line) => output.WriteLine($"    {line}");

    /// <summary>Runs one step; <paramref name="describe"/> turns its result into the line printed (and may refuse it with <see cref="DemoCheckException"/>).</summary>
    public async Task<T> RunAsync<T>(string title, Func<Task<T>> step, Func<T, string> describe)
    {
        try
        {
            var result = await step();
            var line = describe(result);
            Passed++;
            await output.WriteLineAsync($"✓ {title.PadRight(TitleWidth)} {line}");
            return result;
        }
        catch (Exception e) when (Explain(e) is { } why)
        {
            await output.WriteLineAsync($"✗ {title.PadRight(TitleWidth)} {why}");
            throw new StepFailedException();
        }
    }

    public Task<T> RunAsync<T>(string title, Func<AsyncUnaryCall<T>> call, Func<T, string> describe) =>
        RunAsync(title, async () => await call(), describe);

    private string? Explain(Exception e) => e switch
    {
        RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded } rpc =>
            $"{Status(rpc)} — is the platform running? Start it with `make run` in another terminal (sidecar {options.Sidecar.GetLeftPart(UriPartial.Authority)})",
        RpcException rpc => Status(rpc),
        NpgsqlException { InnerException: SocketException or TimeoutException } or SocketException =>
            $"{e.Message} — is the platform's PostgreSQL running (`make run`)?",
        NpgsqlException or DemoCheckException => e.Message,
        HttpRequestException => $"{e.Message} — is the SMTP server's web inbox running (`make run`)?",
        _ => null,
    };

    /// <summary>The gRPC status, its message and, for the platform's rich errors, the reason (e.g. INSUFFICIENT_FUNDS).</summary>
    private static string Status(RpcException rpc) =>
        rpc.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason is { Length: > 0 } reason
            ? $"{rpc.StatusCode} ({reason}): {rpc.Status.Detail}"
            : $"{rpc.StatusCode}: {rpc.Status.Detail}";
}
