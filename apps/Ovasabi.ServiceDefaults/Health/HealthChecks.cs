using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.ServiceDefaults.Health;

/// <summary>
/// /healthz (the process answers) and /readyz (PostgreSQL and the Dapr sidecar answer) on the management port. Each
/// check reports a status and a short fixed description; why a check failed is logged, never served.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IHealthChecksBuilder AddServiceHealthChecks<TDb>(this IServiceCollection services) where TDb : ServiceDbContext
    {
        services.AddHttpClient(nameof(SidecarHealthCheck), client => client.Timeout = TimeSpan.FromSeconds(2));
        return services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck<TDb>>("postgresql", tags: [ReadyTag])
            .AddCheck<SidecarHealthCheck>("dapr-sidecar", tags: [ReadyTag]);
    }

    public static void MapServiceHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync });
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}

/// <summary>Ready when a query reaches the service's PostgreSQL database.</summary>
public sealed class DatabaseHealthCheck<TDb>(IServiceScopeFactory scopes) : IHealthCheck where TDb : ServiceDbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            return await scope.ServiceProvider.GetRequiredService<TDb>().Database.CanConnectAsync(timeout.Token)
                ? HealthCheckResult.Healthy("reachable")
                : HealthCheckResult.Unhealthy("unreachable");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // /readyz answers anyone: the reason goes to the log (the health check service logs the exception), not out.
            return HealthCheckResult.Unhealthy("unreachable", e);
        }
    }
}

/// <summary>Ready when the sidecar's outbound API answers (daprd's /v1.0/healthz/outbound, which the SDK also waits for).</summary>
public sealed class SidecarHealthCheck(IHttpClientFactory clients, IConfiguration configuration) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var endpoint = configuration["DAPR_HTTP_ENDPOINT"] ?? $"http://127.0.0.1:{configuration["DAPR_HTTP_PORT"] ?? "3500"}";
        try
        {
            using var response = await clients.CreateClient(nameof(SidecarHealthCheck)).GetAsync($"{endpoint.TrimEnd('/')}/v1.0/healthz/outbound", cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy("outbound ready")
                : HealthCheckResult.Unhealthy($"sidecar answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("unreachable", e);
        }
    }
}
