using System.Collections.Concurrent;
using Dapr.Client;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Ovasabi.Auth.V1;
using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Testing.Platform;

/// <summary>
/// The user and auth apps as they run for real: their production app IDs, each with its own PostgreSQL database, dev
/// sidecar and app API token, the sidecars loading the local platform's access control (components/config.yaml),
/// sharing Redis state, sessions and pub/sub (a Redis database of the platform's own). Tests call in through a
/// <c>gateway</c> sidecar, as clients reach the platform, and as another app through that app's sidecar
/// (<see cref="SidecarOfAsync"/>); a subscriber app receives the events. A bootstrap administrator exists; tests sign in
/// as whom they need. Subclasses change the apps' settings through <see cref="UserSettings"/> and <see cref="AuthSettings"/>.
/// The platform keeps a name-resolution database of its own, so platforms running side by side never reach each other.
/// </summary>
/// <param name="postgres">The PostgreSQL server the apps' databases are created on.</param>
/// <param name="redis">The Redis server behind state, sessions and pub/sub.</param>
/// <param name="ownsServers">The platform starts both servers first and stops them last (servers of its own, which its tests may stop).</param>
public class IdentityPlatform(PostgresServer postgres, RedisServer redis, bool ownsServers = false) : SidecarFixture
{
    public const string AdminUsername = "platform-admin";
    public const string AdminEmail = "platform-admin@example.com";
    public const string AdminPassword = "bootstrap admin passphrase";

    /// <summary>The app ID of the platform's way in (an API gateway's sidecar): it reaches every app and acts only with a user's token.</summary>
    public const string GatewayAppId = "gateway";

    private readonly Dictionary<string, Task<SidecarProcess>> _callerSidecars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _appApiTokens = new(StringComparer.Ordinal);

    public string UserAppId => "user";

    public string AuthAppId => "auth";

    public PostgresServer Postgres => postgres;

    public RedisServer Redis => redis;

    /// <summary>The Redis database (redisDB) of the platform's state, sessions and pub/sub.</summary>
    public int RedisDatabase { get; private set; }

    public string UserDatabase { get; private set; } = "";

    public string AuthDatabase { get; private set; } = "";

    public SigningKeyFile SigningKeys { get; private set; } = null!;

    /// <summary>The name-resolution database of the platform's sidecars.</summary>
    public string NameResolution { get; private set; } = "";

    public SidecarProcess UserSidecar { get; private set; } = null!;

    public SidecarProcess AuthSidecar { get; private set; } = null!;

    public AppProcess UserApp { get; private set; } = null!;

    public AppProcess AuthApp { get; private set; } = null!;

    /// <summary>Receives every event of <see cref="Topics"/>.</summary>
    public CallbackApp Subscriber { get; private set; } = null!;

    public SidecarProcess SubscriberSidecar { get; private set; } = null!;

    /// <summary>The sidecar clients call in through (<see cref="GatewayAppId"/>).</summary>
    public SidecarProcess GatewaySidecar { get; private set; } = null!;

    /// <summary>The bootstrap administrator's tokens (signed in at start).</summary>
    public TokenPair Admin { get; private set; } = null!;

    /// <summary>Each running app's API token (APP_API_TOKEN), which its sidecar presents and it requires.</summary>
    public IReadOnlyDictionary<string, string> AppApiTokens => _appApiTokens;

    /// <summary>The apps this platform runs; every other app of the access table is only a sidecar, for calls made as that app.</summary>
    protected virtual IEnumerable<string> RunningApps => [UserAppId, AuthAppId];

    /// <summary>Every topic of the user and auth services (the subscriber receives them all).</summary>
    public virtual IEnumerable<string> Topics => [.. TopicName.All<UserTopic>(), .. TopicName.All<AuthTopic>()];

    /// <summary>The user app's environment beyond its ports: rate limits out of the way; override to add or change settings.</summary>
    protected virtual Dictionary<string, string?> UserSettings() => new()
    {
        ["ConnectionStrings__Database"] = UserDatabase,
        ["Service__MigrateOnStartup"] = "true",
        ["User__BootstrapAdmin__Username"] = AdminUsername,
        ["User__BootstrapAdmin__Email"] = AdminEmail,
        ["User__BootstrapAdmin__Password"] = AdminPassword,
        // Every test signs up from 127.0.0.1; the limits have tests of their own.
        ["User__RateLimits__SignUpsPerAddress"] = "100000",
        ["User__RateLimits__PasswordChangesPerAccount"] = "100000",
    };

    /// <summary>The auth app's environment: rate limits out of the way (every test calls from 127.0.0.1), keys re-read every second.</summary>
    protected virtual Dictionary<string, string?> AuthSettings() => new()
    {
        ["ConnectionStrings__Database"] = AuthDatabase,
        ["Service__MigrateOnStartup"] = "true",
        ["Auth__AccessTokenLifetime"] = "00:30:00",
        ["Auth__SigningKeys__RefreshInterval"] = "00:00:01",
        ["Auth__RateLimits__PerAccount"] = "100000",
        ["Auth__RateLimits__PerAddress"] = "100000",
    };

    /// <summary>The local platform's sidecar configuration, with the access control the access table asks for.</summary>
    public static string AccessControlConfig => Path.Combine(RepositoryRoot.Find()!, "components", "config.yaml");

    /// <summary>How to start a running app's sidecar: the platform's resources, access control and name resolution, and a new app API token.</summary>
    protected SidecarLaunch AppLaunch(string appId)
    {
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _appApiTokens[appId] = token;
        return new SidecarLaunch(appId, Resources.Directory)
        {
            AppPort = FreePort.Next(),
            ConfigFile = AccessControlConfig,
            NameResolutionDatabase = NameResolution,
            Environment = new Dictionary<string, string?> { ["APP_API_TOKEN"] = token },
        };
    }

    /// <summary>A sidecar of the platform for a caller without an app, or for a test app on <paramref name="appPort"/>.</summary>
    protected SidecarLaunch CallerLaunch(string appId, int appPort = 0) =>
        new(appId, Resources.Directory) { AppPort = appPort, NameResolutionDatabase = NameResolution };

    /// <summary>A running app's environment: its settings and the token its sidecar presents.</summary>
    protected Dictionary<string, string?> AppEnvironment(string appId, Dictionary<string, string?> settings)
    {
        settings["APP_API_TOKEN"] = _appApiTokens[appId];
        return settings;
    }

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
        RedisDatabase = redis.NewDatabase();
        NameResolution = NewFolder().PathOf("nameresolution.db");
        SigningKeys = new SigningKeyFile(NewFolder().PathOf("signing-keys.json")).Add("2026-01-01");
        var redisDb = new Dictionary<string, string> { ["redisDB"] = RedisDatabase.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        Resources.RedisState("statestore", redis, redisDb)
            .RedisState("sessionstore", redis, new Dictionary<string, string>(redisDb) { ["keyPrefix"] = "name" })
            .RedisPubSub("pubsub", redis, redisDb)
            .Component("secretstore", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = SigningKeys.Path, ["multiValued"] = "true" });

        var userLaunch = AppLaunch(UserAppId);
        var authLaunch = AppLaunch(AuthAppId);
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
            SidecarProcess.StartAsync(CallerLaunch(Subscriber.AppId, Subscriber.Port)),
            SidecarProcess.StartAsync(CallerLaunch(GatewayAppId))));
        (UserSidecar, AuthSidecar, SubscriberSidecar, GatewaySidecar) = (sidecars[0], sidecars[1], sidecars[2], sidecars[3]);
        var apps = await Task.WhenAll(
            AppProcess.StartAsync(UserAppId, userLaunch.AppPort, UserSidecar, AppEnvironment(UserAppId, UserSettings())),
            AppProcess.StartAsync(AuthAppId, authLaunch.AppPort, AuthSidecar, AppEnvironment(AuthAppId, AuthSettings())));
        (UserApp, AuthApp) = (Own(apps[0]), Own(apps[1]));
        await Task.WhenAll(sidecars.Select(sidecar => sidecar.WaitReadyAsync()));
        await SignInAdminAsync();
    }

    /// <summary>
    /// The sidecar through which a call acts as app <paramref name="appId"/> (it stamps the caller's app ID): a running
    /// app's own, or, for an app this platform does not run, a sidecar of its own started on first use.
    /// </summary>
    public virtual Task<SidecarProcess> SidecarOfAsync(string appId)
    {
        if (appId == UserAppId)
        {
            return Task.FromResult(UserSidecar);
        }
        if (appId == AuthAppId)
        {
            return Task.FromResult(AuthSidecar);
        }
        if (RunningApps.Contains(appId))
        {
            throw new InvalidOperationException($"{GetType().Name} runs {appId} but does not say which sidecar is its own");
        }
        lock (_callerSidecars)
        {
            if (!_callerSidecars.TryGetValue(appId, out var sidecar))
            {
                sidecar = StartCallerAsync(appId);
                _callerSidecars[appId] = sidecar;
            }
            return sidecar;
        }
    }

    private async Task<SidecarProcess> StartCallerAsync(string appId)
    {
        var sidecar = await SidecarProcess.StartAsync(CallerLaunch(appId));
        lock (_callerSidecars)
        {
            Own(sidecar);
        }
        await sidecar.WaitReadyAsync();
        return sidecar;
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
        UserApp = Own(await AppProcess.StartAsync(UserAppId, UserSidecar.Launch.AppPort, UserSidecar, AppEnvironment(UserAppId, UserSettings())));
    }

    /// <summary>Starts a sidecar for the user app after <see cref="UserSidecar"/> was stopped, on the same ports the running app talks to.</summary>
    public async Task RestartUserSidecarAsync()
    {
        UserSidecar = Own(await SidecarProcess.StartAsync(UserSidecar.Launch, UserSidecar.Ports));
        await UserSidecar.WaitReadyAsync();
    }

    /// <summary>The user API through the gateway, as <paramref name="accessToken"/>'s holder (anonymous when null).</summary>
    public UserService.UserServiceClient UserClient(string? accessToken = null) => new(Invoker(UserAppId, GatewaySidecar, accessToken));

    /// <summary>The auth API through the gateway, as <paramref name="accessToken"/>'s holder (anonymous when null).</summary>
    public AuthService.AuthServiceClient AuthClient(string? accessToken = null) => new(Invoker(AuthAppId, GatewaySidecar, accessToken));

    /// <summary>The user API called by app <paramref name="appId"/> as itself (through its sidecar, no token).</summary>
    public async Task<UserService.UserServiceClient> UserClientAsAsync(string appId) => new(Invoker(UserAppId, await SidecarOfAsync(appId), null));

    /// <summary>The auth API called by app <paramref name="appId"/> as itself (through its sidecar, no token).</summary>
    public async Task<AuthService.AuthServiceClient> AuthClientAsAsync(string appId) => new(Invoker(AuthAppId, await SidecarOfAsync(appId), null));

    /// <summary>
    /// A client of an app's own gRPC port, bypassing every sidecar, presenting the app's API token as its sidecar does
    /// (<paramref name="appApiToken"/>: another token, or "" for none).
    /// </summary>
    public CallInvoker Direct(AppProcess app, string? accessToken = null, string? appApiToken = null)
    {
        var invoker = _invokers.GetOrAdd(("", app.GrpcPort), key => GrpcChannel.ForAddress($"http://127.0.0.1:{key.Item2}").CreateCallInvoker());
        var token = appApiToken ?? _appApiTokens[app.AppId];
        return WithToken(token.Length == 0 ? invoker : invoker.Intercept(metadata =>
        {
            metadata.Add("dapr-api-token", token);
            return metadata;
        }), accessToken);
    }

    /// <summary>
    /// A client address of its own (a documentation IPv6 address), sent as the edge proxy would in
    /// <c>x-forwarded-for</c>, so a test never shares a per-address budget with another.
    /// </summary>
    public static string NewAddress() => $"2001:db8::{Random.Shared.Next(0x10000):x}:{Random.Shared.Next(0x10000):x}:{Random.Shared.Next(0x10000):x}";

    public static Metadata From(string address) => new() { { "x-forwarded-for", address } };

    /// <summary>A new user with <paramref name="roles"/> besides "user", not signed in yet (signed up from an address of its own): its record and password.</summary>
    public async Task<(Ovasabi.User.V1.User User, string Password)> CreateAccountAsync(params string[] roles)
    {
        var password = "correct horse battery " + Guid.NewGuid().ToString("N")[..6];
        var user = await UserClient().CreateUserAsync(new CreateUserRequest
        {
            Username = "u" + Guid.NewGuid().ToString("N")[..10],
            Email = $"{Guid.NewGuid():N}@example.com",
            Password = password,
        }, From(NewAddress()));
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

    protected CallInvoker Invoker(string appId, SidecarProcess sidecar, string? accessToken) => InvokerVia(sidecar, appId, accessToken);

    /// <summary>Calls of app <paramref name="appId"/> through <paramref name="sidecar"/> (dapr-app-id), as <paramref name="accessToken"/>'s holder when given.</summary>
    public CallInvoker InvokerVia(SidecarProcess sidecar, string appId, string? accessToken) =>
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
