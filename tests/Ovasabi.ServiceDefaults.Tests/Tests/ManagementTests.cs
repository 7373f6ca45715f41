using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Ovasabi.ServiceDefaults.Tests.Platform;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>
/// /healthz and /readyz on the HTTP/1.1 management port; gRPC health and reflection on the gRPC port; neither port serves
/// the other's endpoints (/metrics: MetricsTests).
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class ManagementTests(ProbePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ProbeHost Probe => platform.Probe;

    [Fact]
    public async Task Healthz_answers_200_without_running_the_readiness_checks()
    {
        using var response = await Probe.Management.GetAsync("/healthz", Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Empty(body.RootElement.GetProperty("checks").EnumerateObject());
    }

    [Fact]
    public async Task Readyz_answers_200_with_the_postgresql_and_sidecar_checks()
    {
        using var response = await Probe.Management.GetAsync("/readyz", Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks");
        Assert.Equal(["dapr-sidecar", "postgresql"], checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal("Healthy", checks.GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Equal("reachable", checks.GetProperty("postgresql").GetProperty("description").GetString());
        Assert.Equal("Healthy", checks.GetProperty("dapr-sidecar").GetProperty("status").GetString());
        Assert.Equal("outbound ready", checks.GetProperty("dapr-sidecar").GetProperty("description").GetString());
    }

    [Fact]
    public async Task The_gRPC_health_service_answers_SERVING_for_the_server()
    {
        var response = await Probe.Health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task The_gRPC_health_service_answers_NotFound_for_a_service_it_does_not_know()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Probe.Health.CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Reflection_lists_the_probe_health_and_AppCallback_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(Probe.Channel);
        using var call = reflection.ServerReflectionInfo(cancellationToken: Cancel);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" }, Cancel);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(Cancel));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("ovasabi.probe.v1.Probe", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("dapr.proto.runtime.v1.AppCallback", services);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    public async Task The_gRPC_port_does_not_serve_management_endpoints_even_with_the_management_port_as_Host(string path)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{Probe.GrpcPort}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        // The caller controls Host; the port the connection arrived on decides.
        request.Headers.Host = $"127.0.0.1:{Probe.ManagementPort}";

        using var response = await client.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/ovasabi.probe.v1.Probe/Fail")]
    [InlineData("/grpc.health.v1.Health/Check")]
    [InlineData("/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions")]
    public async Task The_management_port_does_not_serve_gRPC(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent([0, 0, 0, 0, 0]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");

        using var response = await Probe.Management.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
