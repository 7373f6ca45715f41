using System.Collections.Concurrent;
using Dapr.Client;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Ovasabi.Auth.V1;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;

namespace Ovasabi.Testing.Platform;

/// <summary>
/// The user and auth apps as they run for real, each with its own PostgreSQL database and dev sidecar, sharing Redis
/// state, sessions and pub/sub; a subscriber app whose sidecar is the tests' way in (as another service's would be),
/// and a sidecar whose app ID both apps trust as a service caller. A bootstrap administrator exists; tests sign in
/// as whom they need. Subclasses change the apps' settings through <see cref="UserSettings"/> and <see cref="AuthSettings"/>.
/// </summary>
/// <param name="postgres">The PostgreSQL server the apps' databases are created on.</param>
/// <param name="redis">The Redis server behind state, sessions and pub/sub.</param>
/// <param name="ownsServers">The platform starts both servers first and stops them last (servers of its own, which its tests may stop).</param>
public class IdentityPlatform(PostgresServer postgres, RedisServer redis, bool ownsServers = false) : SidecarFixture
{
    public const string AdminUsername = "platform-admin";
    public const string AdminEmail = "platform-admin@example.com";
    public const string AdminPassword = "bootstrap admin passphrase";

    /// <summary>Dapr app IDs, unique per fixture so parallel test classes never reach each other's apps.</summary>
    public string UserAppId { get; } = UniqueName.Create("user");

    public string AuthAppId { get; } = UniqueName.Create("auth");

    /// <summary>The app ID the apps trust as another ovasabi service (dapr-caller-app-id).</summary>
    public string ServiceAppId { get; } = UniqueName.Create("svc");

    public PostgresServer Postgres => postgres;

    public RedisServer Redis => redis;

    public string UserDatabase { get; private set; } = "";

    public string AuthDatabase { get; private set; } = "";

    public SigningKeyFile SigningKeys { get; private set; } = null!;

    public SidecarProcess UserSidecar { get; private set; } = null!;

    public SidecarProcess AuthSidecar { get; private set; } = null!;

    public AppProcess UserApp { get; private set; } = null!;

    public AppProcess AuthApp { get; private set; } = null!;

    /// <summary>Receives every event of <see cref="Topics"/>; its sidecar carries the tests' calls.</summary>
    public CallbackApp Subscriber { get; private set; } = null!;

    public SidecarProcess SubscriberSidecar { get; private set; } = null!;

    public SidecarProcess ServiceSidecar { get; private set; } = null!;

    /// <summary>The bootstrap administrator's tokens (signed in at start).</summary>
    public TokenPair Admin { get; private set; } = null!;

    public virtual IEnumerable<string> Topics =>
    [
        "user.user.created", "user.user.updated", "user.user.suspended", "user.user.deleted", "user.role.assigned", "user.role.removed",
        "user.preferences.updated", "auth.login.succeeded", "auth.login.failed", "auth.session.revoked", "auth.token.reuse_detected",
    ];

    /// <summary>The user app's environment beyond its ports; override to add or change settings.</summary>
    protected virtual Dictionary<string, string?> UserSettings() => new()
    {
        ["ConnectionStrings__Database"] = UserDatabase,
        ["Service__MigrateOnStartup"] = "true",
        ["Security__AuthAppId"] = AuthAppId,
        ["Security__ServiceCallers"] = $"{AuthAppId},{ServiceAppId}",
        ["User__BootstrapAdmin__Username"] = AdminUsername,
        ["User__BootstrapAdmin__Email"] = AdminEmail,
        ["User__BootstrapAdmin__Password"] = AdminPassword,
    };

    /// <summary>The auth app's environment: rate limits out of the way (every test calls from 127.0.0.1), keys re-read every second.</summary>
    protected virtual Dictionary<string, string?> AuthSettings() => new()
    {
        ["ConnectionStrings__Database"] = AuthDatabase,
        ["Service__MigrateOnStartup"] = "true",
        ["Security__AuthAppId"] = AuthAppId,
        ["Security__ServiceCallers"] = ServiceAppId,
        ["Auth__UserAppId"] = UserAppId,
        ["Auth__AccessTokenLifetime"] = "00:30:00",
        ["Auth__SigningKeys__RefreshInterval"] = "00:00:01",
        ["Auth__RateLimits__PerAccount"] = "100000",
        ["Auth__RateLimits__PerAddress"] = "100000",
    };

    protected override async Task StartAsync()
    {
        if (ownsServers)
        {
            // Owned first, so they go last, after the apps and sidecars that use them.
            Own(postgres);
            Own(redis);
            await Task.WhenAll(postgres.InitializeAsync().AsTask(), redis.InitializeAsync().AsTask());
        }
        var databases = await Task.WhenAll(postgres.CreateDatabaseAsync("user"), postgres.CreateDatabaseAsync("auth"));
        (UserDatabase, AuthDatabase) = (databases[0], databases[1]);
        SigningKeys = new SigningKeyFile(NewFolder().PathOf("signing-keys.json")).Add("2026-01-01");
        Resources.RedisState("statestore", redis)
            .RedisState("sessionstore", redis, new Dictionary<string, string> { ["keyPrefix"] = "name" })
            .RedisPubSub("pubsub", redis)
            .Component("secretstore", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = SigningKeys.Path, ["multiValued"] = "true" });

        var userLaunch = new SidecarLaunch(UserAppId, Resources.Directory) { AppPort = FreePort.Next() };
        var authLaunch = new SidecarLaunch(AuthAppId, Resources.Directory) { AppPort = FreePort.Next() };
        Subscriber = Own(await CallbackApp.StartAsync(UniqueName.Create("events"), app =>
        {
            foreach (var topic in Topics)
            {
                app.Subscribe("pubsub", topic);
            }
        }));
        // Ready only once their apps answer, so the sidecars are awaited after the apps start.
        var sidecars = Own(await Task.WhenAll(
            SidecarProcess.StartAsync(userLaunch),
            SidecarProcess.StartAsync(authLaunch),
            SidecarProcess.StartAsync(new SidecarLaunch(Subscriber.AppId, Resources.Directory) { AppPort = Subscriber.Port }),
            SidecarProcess.StartAsync(new SidecarLaunch(ServiceAppId, Resources.Directory))));
        (UserSidecar, AuthSidecar, SubscriberSidecar, ServiceSidecar) = (sidecars[0], sidecars[1], sidecars[2], sidecars[3]);
        var apps = await Task.WhenAll(
            AppProcess.StartAsync("user", userLaunch.AppPort, UserSidecar, UserSettings()),
            AppProcess.StartAsync("auth", authLaunch.AppPort, AuthSidecar, AuthSettings()));
        (UserApp, AuthApp) = (Own(apps[0]), Own(apps[1]));
        await Task.WhenAll(sidecars.Select(sidecar => sidecar.WaitReadyAsync()));
        await SignInAdminAsync();
    }

    /// <summary>
    /// Signs the bootstrap administrator in (again: e.g. after a Redis without persistence lost every session), retrying
    /// while the platform answers Unavailable, as a Redis that just came back may still be out of the sidecar's reach.
    /// </summary>
    public async Task SignInAdminAsync()
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                Admin = await AuthClient().LoginAsync(new LoginRequest { Login = AdminUsername, Password = AdminPassword });
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < until)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Starts a sidecar for the auth app after <see cref="AuthSidecar"/> was stopped, on the same ports (e.g. to re-read the secret file).</summary>
    public async Task RestartAuthSidecarAsync()
    {
        await AuthSidecar.StopAsync();
        AuthSidecar = Own(await SidecarProcess.StartAsync(AuthSidecar.Launch, AuthSidecar.Ports));
        await AuthSidecar.WaitReadyAsync();
    }

    /// <summary>Stops the user app and starts it again alike (same port, same environment); waits until it is ready.</summary>
    public async Task RestartUserAppAsync()
    {
        await UserApp.StopAsync();
        UserApp = Own(await AppProcess.StartAsync("user", UserSidecar.Launch.AppPort, UserSidecar, UserSettings()));
    }

    /// <summary>Starts a sidecar for the user app after <see cref="UserSidecar"/> was stopped, on the same ports the running app talks to.</summary>
    public async Task RestartUserSidecarAsync()
    {
        UserSidecar = Own(await SidecarProcess.StartAsync(UserSidecar.Launch, UserSidecar.Ports));
        await UserSidecar.WaitReadyAsync();
    }

    /// <summary>The user API through the subscriber's sidecar, as <paramref name="accessToken"/>'s holder (anonymous when null).</summary>
    public UserService.UserServiceClient UserClient(string? accessToken = null) => new(Invoker(UserAppId, SubscriberSidecar, accessToken));

    /// <summary>The auth API through the subscriber's sidecar, as <paramref name="accessToken"/>'s holder (anonymous when null).</summary>
    public AuthService.AuthServiceClient AuthClient(string? accessToken = null) => new(Invoker(AuthAppId, SubscriberSidecar, accessToken));

    /// <summary>The user API called by a trusted service (through the service caller's sidecar, no token).</summary>
    public UserService.UserServiceClient UserClientAsService() => new(Invoker(UserAppId, ServiceSidecar, null));

    public AuthService.AuthServiceClient AuthClientAsService() => new(Invoker(AuthAppId, ServiceSidecar, null));

    /// <summary>A client of an app's own gRPC port, bypassing every sidecar.</summary>
    public CallInvoker Direct(AppProcess app, string? accessToken = null) =>
        WithToken(_invokers.GetOrAdd(("", app.GrpcPort), key => GrpcChannel.ForAddress($"http://127.0.0.1:{key.Item2}").CreateCallInvoker()), accessToken);

    /// <summary>A new user with <paramref name="roles"/> besides "user", not signed in yet: its record and password.</summary>
    public async Task<(Ovasabi.User.V1.User User, string Password)> CreateAccountAsync(params string[] roles)
    {
        var password = "correct horse battery " + Guid.NewGuid().ToString("N")[..6];
        var user = await UserClient().CreateUserAsync(new CreateUserRequest
        {
            Username = "u" + Guid.NewGuid().ToString("N")[..10],
            Email = $"{Guid.NewGuid():N}@example.com",
            Password = password,
        });
        foreach (var role in roles)
        {
            await UserClient(Admin.AccessToken).AssignRoleAsync(new AssignRoleRequest { UserId = user.UserId, Role = role });
        }
        return (user, password);
    }

    /// <summary>A new user with <paramref name="roles"/> besides "user", signed in: its record, password and tokens.</summary>
    public async Task<SignedInUser> SignUpAsync(params string[] roles)
    {
        var (user, password) = await CreateAccountAsync(roles);
        var tokens = await AuthClient().LoginAsync(new LoginRequest { Login = user.Username, Password = password });
        return new SignedInUser(user, password, tokens);
    }

    // One channel per app and sidecar port for the fixture's life; tokens are added per call.
    private readonly ConcurrentDictionary<(string, int), CallInvoker> _invokers = new();

    protected CallInvoker Invoker(string appId, SidecarProcess sidecar, string? accessToken) =>
        WithToken(_invokers.GetOrAdd((appId, sidecar.GrpcPort), key => DaprClient.CreateInvocationInvoker(key.Item1, $"http://127.0.0.1:{key.Item2}")), accessToken);

    private static CallInvoker WithToken(CallInvoker invoker, string? accessToken) =>
        accessToken is null ? invoker : invoker.Intercept(metadata =>
        {
            metadata.Add("authorization", $"Bearer {accessToken}");
            return metadata;
        });
}

/// <summary>A user the test created and signed in.</summary>
public sealed record SignedInUser(Ovasabi.User.V1.User User, string Password, TokenPair Tokens)
{
    public string Id => User.UserId;

    public string AccessToken => Tokens.AccessToken;
}
