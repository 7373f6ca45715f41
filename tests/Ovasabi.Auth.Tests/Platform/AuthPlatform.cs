using Google.Protobuf;
using Grpc.Core;
using Ovasabi.Auth.V1;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Platform;

/// <summary>
/// The user and auth apps for the auth tests, with a lockout short enough to wait out (3 failures, 2 s, doubling).
/// One instance serves every test class of <see cref="AuthCollection"/>: they run one after another, so a key
/// rotation or a lockout never overlaps another class's calls.
/// </summary>
public class AuthPlatform(PostgresServer postgres, RedisServer redis) : AppPlatform(postgres, redis, [UserAppId, AuthAppId])
{
    public const int MaxFailures = 3;

    public static readonly TimeSpan BaseBackoff = TimeSpan.FromSeconds(2);

    // The lockout policy is the same for every app that checks passwords (auth's sign-in, the user service's password change).
    protected override void Configure(string appId, Dictionary<string, string?> settings)
    {
        settings["Security__Lockout__MaxFailures"] = MaxFailures.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Security__Lockout__BaseBackoff"] = BaseBackoff.ToString("c");
    }

    /// <summary>Signs in from <paramref name="address"/> (a fresh one when null).</summary>
    public AsyncUnaryCall<TokenPair> Login(string login, string password, string? address = null) =>
        AuthClient().LoginAsync(new LoginRequest { Login = login, Password = password }, From(address ?? NewAddress()), cancellationToken: Cancel);

    /// <summary>A call that only a live session passes: the user service's GetUser of the token's own user.</summary>
    public AsyncUnaryCall<Ovasabi.User.V1.User> GetSelf(string accessToken, string userId) =>
        UserClient(accessToken).GetUserAsync(new GetUserRequest { UserId = userId }, cancellationToken: Cancel);

    /// <summary>A call that only a live session passes: the auth service's ListSessions of the caller.</summary>
    public AsyncUnaryCall<ListSessionsResponse> ListOwnSessions(string accessToken) =>
        AuthClient(accessToken).ListSessionsAsync(new ListSessionsRequest(), cancellationToken: Cancel);

    /// <summary>
    /// Fails unless both the auth and the user service refuse <paramref name="accessToken"/> as Unauthenticated; returns
    /// both errors. The auth service, which ended the session, refuses at once; the user service once a token it
    /// verified is looked up again, after <c>Security:SessionCheckSeconds</c>.
    /// </summary>
    public async Task<(RpcException Auth, RpcException User)> RejectedEverywhereAsync(string accessToken, string userId)
    {
        var auth = await FailsAsync(StatusCode.Unauthenticated, () => ListOwnSessions(accessToken));
        await Task.Delay(new SecurityOptions().SessionCheckInterval, Cancel);
        return (auth, await FailsAsync(StatusCode.Unauthenticated, () => GetSelf(accessToken, userId)));
    }

    /// <summary>The first event of <paramref name="topic"/> that reached the subscriber and matches; waits for it.</summary>
    public async Task<T> EventAsync<T>(string topic, Func<T, bool> match) where T : IMessage, new()
    {
        var received = await Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == topic && match(Payload<T>(r)), timeout: EventTimeout);
        return Payload<T>(received[0]);
    }

    /// <summary>The JSON Web Key Set the auth app's management port serves over HTTP.</summary>
    public async Task<Jwks> HttpJwksAsync()
    {
        var json = await AuthApp.Management.GetStringAsync("/.well-known/jwks.json", Cancel);
        return JsonParser.Default.Parse<Jwks>(json);
    }

    private static T Payload<T>(Received received) where T : IMessage, new() =>
        JsonParser.Default.Parse<T>(received.Event.Data.ToStringUtf8());
}

[CollectionDefinition(nameof(AuthCollection))]
public sealed class AuthCollection : ICollectionFixture<AuthPlatform>;

/// <summary>Small budgets (sign-ins and password changes 3 per account, sign-ins and sign-ups 5 per address, per minute) for the rate-limit tests.</summary>
public sealed class RateLimitPlatform(PostgresServer postgres, RedisServer redis) : AuthPlatform(postgres, redis)
{
    public const int PerAccount = 3;

    public const int PerAddress = 5;

    /// <summary>The same budgets for sign-ins per account and address, sign-ups per address and password changes per account.</summary>
    protected override void Configure(string appId, Dictionary<string, string?> settings)
    {
        base.Configure(appId, settings);
        var (perAccount, perAddress) = (PerAccount.ToString(System.Globalization.CultureInfo.InvariantCulture), PerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (appId == AuthAppId)
        {
            (settings["Auth__RateLimits__PerAccount"], settings["Auth__RateLimits__PerAddress"]) = (perAccount, perAddress);
        }
        else if (appId == UserAppId)
        {
            (settings["User__RateLimits__SignUpsPerAddress"], settings["User__RateLimits__PasswordChangesPerAccount"]) = (perAddress, perAccount);
        }
    }
}
