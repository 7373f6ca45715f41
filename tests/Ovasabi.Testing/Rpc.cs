using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Xunit;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.Testing;

/// <summary>Assertions on gRPC outcomes and small polling helpers for tests that call the apps.</summary>
public static class Rpc
{
    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Generous: the fixture's processes share two cores with every other test class.</summary>
    public static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long to keep listening before concluding that no (further) event comes.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    /// <summary>The call fails with <paramref name="code"/>; returns the error for further checks.</summary>
    public static async Task<RpcException> FailsAsync<T>(StatusCode code, Func<AsyncUnaryCall<T>> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call());
        Assert.True(error.StatusCode == code, $"expected {code}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    /// <summary>InvalidArgument whose BadRequest detail names <paramref name="field"/>.</summary>
    public static async Task<RpcException> InvalidAsync<T>(string field, Func<AsyncUnaryCall<T>> call)
    {
        var error = await FailsAsync(StatusCode.InvalidArgument, call);
        var fields = Violations(error).Select(v => v.Field).ToList();
        Assert.True(fields.Contains(field), $"expected a violation of '{field}', got [{string.Join(", ", fields)}]: {error.Status.Detail}");
        return error;
    }

    public static IReadOnlyList<BadRequest.Types.FieldViolation> Violations(RpcException error) =>
        error.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.ToList() ?? [];

    /// <summary>The ErrorInfo reason of a rich error, or null.</summary>
    public static string? Reason(RpcException error) => error.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;

    /// <summary>Polls <paramref name="probe"/> until <paramref name="done"/> holds; fails with the last value after the timeout.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what ?? "condition"} did not hold in time; last value: {value}");
            }
            await Task.Delay(200, Cancel);
        }
    }

    /// <summary>The protobuf JSON of a message, e.g. to search a response for something that must not be in it.</summary>
    public static string Json(IMessage message) => JsonFormatter.Default.Format(message);
}
