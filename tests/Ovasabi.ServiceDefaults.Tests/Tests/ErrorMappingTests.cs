using Dapr.Client;
using Google.Rpc;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>What escapes an RPC reaches the caller as a precise gRPC status with ErrorInfo (and BadRequest) details.</summary>
[Collection(ProbeCollection.Name)]
public sealed class ErrorMappingTests(ProbePlatform platform)
{
    private const string Domain = "probe.ovasabi";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("not_found", StatusCode.NotFound, "item 42 not found", "ITEM_NOT_FOUND")]
    [InlineData("already_exists", StatusCode.AlreadyExists, "the name is taken", "ITEM_NAME_TAKEN")]
    [InlineData("failed_precondition", StatusCode.FailedPrecondition, "the item is archived", "ITEM_ARCHIVED")]
    [InlineData("version_conflict", StatusCode.FailedPrecondition, "item is at version 4, not 3: read it again and retry", "VERSION_CONFLICT")]
    [InlineData("permission_denied", StatusCode.PermissionDenied, "only owners may do that", "PERMISSION_DENIED")]
    [InlineData("unauthenticated", StatusCode.Unauthenticated, "sign in first", "UNAUTHENTICATED")]
    [InlineData("resource_exhausted", StatusCode.ResourceExhausted, "too many items", "RESOURCE_EXHAUSTED")]
    public async Task A_service_exception_answers_its_code_message_and_ErrorInfo(string kind, StatusCode code, string message, string reason)
    {
        var error = await FailAsync(kind);

        Assert.Equal(code, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        var status = error.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal((int)code, status.Code);
        Assert.Equal(message, status.Message);
        var info = status.GetDetail<ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal(reason, info.Reason);
        Assert.Equal(Domain, info.Domain);
        Assert.Null(status.GetDetail<BadRequest>());
    }

    [Fact]
    public async Task InvalidArgument_carries_a_BadRequest_field_violation_besides_ErrorInfo()
    {
        var error = await FailAsync("invalid_argument");

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("name: is required", error.Status.Detail);
        var status = error.GetRpcStatus()!;
        Assert.Equal("INVALID_ARGUMENT", status.GetDetail<ErrorInfo>()!.Reason);
        var violation = Assert.Single(status.GetDetail<BadRequest>()!.FieldViolations);
        Assert.Equal("name", violation.Field);
        Assert.Equal("is required", violation.Description);
    }

    [Fact]
    public async Task An_RpcException_thrown_by_the_service_passes_through_unchanged()
    {
        var error = await FailAsync("rpc");

        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        Assert.Equal("the probe lost data on purpose", error.Status.Detail);
        Assert.Null(error.GetRpcStatus());
    }

    [Fact]
    public async Task An_unexpected_exception_is_Internal_without_internals_and_is_logged_with_them()
    {
        var error = await FailAsync("unexpected");

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("internal error", error.Status.Detail);
        var everything = error.Status.Detail + string.Join(";", error.Trailers.Select(t => t.IsBinary ? Convert.ToBase64String(t.ValueBytes) : t.Value));
        Assert.DoesNotContain("hunter2", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", everything, StringComparison.Ordinal);
        Assert.Null(error.GetRpcStatus());
        await Eventually.Until(() => Task.FromResult(platform.Probe.Logs.Contains("hunter2")), "the server log to name the unexpected error");
    }

    [Fact]
    public async Task A_concurrent_update_seen_by_EF_Core_is_Aborted()
    {
        var item = await platform.Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("conc") }, cancellationToken: Cancel);
        var renamed = await platform.Probe.Probe.RenameItemAsync(new RenameItemRequest { ItemId = item.ItemId, Name = Names.Unique("first"), ReadVersion = item.Version }, cancellationToken: Cancel);
        Assert.Equal(item.Version + 1, renamed.Version);

        // A second writer that read the same version as the first one.
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Probe.Probe.RenameItemAsync(new RenameItemRequest { ItemId = item.ItemId, Name = Names.Unique("second"), ReadVersion = item.Version }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("CONCURRENT_UPDATE", error.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
        var stored = await platform.Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = item.ItemId, TtlSeconds = 60 }, cancellationToken: Cancel);
        Assert.Equal(renamed.Name, stored.Item.Name);
    }

    [Fact]
    public async Task A_domain_error_keeps_its_details_when_called_through_the_sidecars()
    {
        var viaSidecar = new Probe.V1.Probe.ProbeClient(DaprClient.CreateInvocationInvoker(platform.AppId, $"http://127.0.0.1:{platform.SubscriberSidecar.GrpcPort}"));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await viaSidecar.FailAsync(new FailRequest { Kind = "invalid_argument" }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var status = error.GetRpcStatus()!;
        Assert.Equal("INVALID_ARGUMENT", status.GetDetail<ErrorInfo>()!.Reason);
        Assert.Equal("name", Assert.Single(status.GetDetail<BadRequest>()!.FieldViolations).Field);
    }

    private async Task<RpcException> FailAsync(string kind) =>
        await Assert.ThrowsAsync<RpcException>(async () => await platform.Probe.Probe.FailAsync(new FailRequest { Kind = kind }, cancellationToken: Cancel));
}
