using Google.Rpc;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>The Validator reports every bad field of a request at once, as InvalidArgument with one violation each.</summary>
[Collection(ProbeCollection.Name)]
public sealed class ValidatorTests(ProbePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_invalid_field_is_reported_together_in_order()
    {
        var error = await ValidateAsync(new ValidateRequest { Name = "", Email = " ", Count = 0, Id = "not-a-uuid" });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal([("name", "is required"), ("email", "is required"), ("count", "must be positive"), ("id", "must be a UUID")], Violations(error));
        Assert.Equal("name: is required; email: is required; count: must be positive; id: must be a UUID", error.Status.Detail);
        Assert.Equal("INVALID_ARGUMENT", error.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
    }

    [Fact]
    public async Task A_too_long_value_and_a_missing_id_are_reported_without_the_valid_fields()
    {
        var error = await ValidateAsync(new ValidateRequest { Name = "eleven-char", Email = "a@example.com", Count = 3, Id = "" });

        Assert.Equal([("name", "must be at most 10 characters"), ("id", "is required")], Violations(error));
    }

    [Fact]
    public async Task A_valid_request_passes()
    {
        await platform.Probe.Probe.ValidateAsync(new ValidateRequest { Name = "ten-chars!", Email = "a@example.com", Count = 1, Id = Guid.NewGuid().ToString() }, cancellationToken: Cancel);
    }

    [Fact]
    public async Task An_id_that_is_not_in_canonical_form_is_not_a_UUID()
    {
        var error = await ValidateAsync(new ValidateRequest { Name = "n", Email = "e", Count = 1, Id = Guid.NewGuid().ToString("N") });

        Assert.Equal([("id", "must be a UUID")], Violations(error));
    }

    private async Task<RpcException> ValidateAsync(ValidateRequest request) =>
        await Assert.ThrowsAsync<RpcException>(async () => await platform.Probe.Probe.ValidateAsync(request, cancellationToken: Cancel));

    private static (string Field, string Description)[] Violations(RpcException error) =>
        [.. error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => (v.Field, v.Description))];
}
