using Microsoft.Extensions.Options;
using System.Globalization;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>What the session store holds for a live session; revoking a session deletes it.</summary>
public sealed record SessionEntry(string UserId, DateTimeOffset ExpiresAt);

/// <summary>
/// Live sessions in the shared Dapr state store: the auth service writes them (with a TTL ending with the session),
/// every app reads them when it checks an access token, so a revoked session ends its access tokens at the next call.
/// </summary>
public sealed class SessionRegistry(DaprClient dapr, IOptions<SecurityOptions> options, StateStoreBreaker breaker, RecentTokens recent, TimeProvider time,
    ILogger<SessionRegistry> logger)
{
    public static string Key(string sessionId) => $"auth:session:{sessionId}";

    public async Task SaveAsync(string sessionId, SessionEntry entry, CancellationToken cancellationToken)
    {
        var ttl = Math.Max(1, (int)Math.Ceiling((entry.ExpiresAt - time.GetUtcNow()).TotalSeconds));
        await breaker.ExecuteAsync(options.Value.SessionStoreName, async ct => await dapr.SaveStateAsync(options.Value.SessionStoreName, Key(sessionId), entry,
            metadata: new Dictionary<string, string> { ["ttlInSeconds"] = ttl.ToString(CultureInfo.InvariantCulture) },
            cancellationToken: ct), cancellationToken);
    }

    public async Task RemoveAsync(string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            await breaker.ExecuteAsync(options.Value.SessionStoreName, async ct => await dapr.DeleteStateAsync(options.Value.SessionStoreName, Key(sessionId), cancellationToken: ct), cancellationToken);
        }
        finally
        {
            // After the delete, so no call of this replica can find the session live again and remember it.
            recent.ForgetSession(sessionId);
        }
    }

    /// <summary>
    /// Whether the session is live for the user; null when the store cannot be reached. A misconfigured store (e.g.
    /// missing) is not "unreachable" and throws.
    /// </summary>
    public async Task<bool?> IsLiveAsync(string sessionId, string userId, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await breaker.ExecuteAsync(options.Value.SessionStoreName,
                async ct => await dapr.GetStateAsync<SessionEntry?>(options.Value.SessionStoreName, Key(sessionId), cancellationToken: ct), cancellationToken);
            return entry is not null && string.Equals(entry.UserId, userId, StringComparison.OrdinalIgnoreCase) && entry.ExpiresAt > time.GetUtcNow();
        }
        // The sidecar out of reach, or the store behind it failing (daprd answers Internal then); a store that does not
        // exist is InvalidArgument, a misconfiguration that must not pass for an outage.
        catch (Exception e) when (ExceptionMappingInterceptor.IsUnavailable(e)
                                  || e is DaprException { InnerException: RpcException { StatusCode: not StatusCode.InvalidArgument } })
        {
            logger.LogWarning(e, "Session store {Store} unreachable: session {Session} not checked", options.Value.SessionStoreName, sessionId);
            return null;
        }
    }
}
