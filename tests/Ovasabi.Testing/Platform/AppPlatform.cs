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
/// A platform is a list of apps and the backends they share, as they run for real: each app under its production app
/// ID with its own PostgreSQL database, dev sidecar and app API token, the sidecars loading the local platform's access
/// control (components/config.yaml) and sharing Redis state, sessions and pub/sub (a Redis database of the platform's
/// own), the auth app's signing keys in a local secret store. Tests call in through a <c>gateway</c> sidecar, as
/// clients reach the platform, and as another app through that app's sidecar (<see cref="SidecarOfAsync"/>); a
/// subscriber receives every event the apps publish. With the user and auth apps in the list, a bootstrap
/// administrator exists and tests sign in as whom they need. <see cref="Configure"/> changes an app's settings. The
/// platform keeps a name-resolution database of its own, so platforms running side by side never reach each other.
/// </summary>
/// <param name="postgres">The PostgreSQL server the apps' databases are created on.</param>
/// <param name="redis">The Redis server behind state, sessions and pub/sub.</param>
/// <param name="apps">The apps it runs (app IDs of the access table); every other app is only a sidecar, for calls made as that app.</param>
/// <param name="ownsServers">The platform starts both servers first and stops them last (servers of its own, which its tests may stop).</param>
public class AppPlatform(PostgresServer postgres, RedisServer redis, IReadOnlyList<string> apps, bool ownsServers = false) : SidecarFixture
{
    public const string AdminUsername = "platform-admin";
    public const string AdminEmail = "platform-admin@example.com";
    public const string AdminPassword = "bootstrap admin passphrase";

    /// <summary>The app ID of the platform's way in (an API gateway's sidecar): it reaches every app and acts only with a user's token.</summary>
    public const string GatewayAppId = "gateway";

    public const string UserAppId = "user";

    public const string AuthAppId = "auth";

    private readonly Dictionary<string, Task<SidecarProcess>> _callerSidecars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _appApiTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _databases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SidecarProcess> _sidecars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AppProcess> _apps = new(StringComparer.Ordinal);

    public PostgresServer Postgres => postgres;

    public RedisServer Redis => redis;

    /// <summary>The apps this platform runs.</summary>
    public IReadOnlyList<string> Apps => apps;

    /// <summary>The Redis database (redisDB) of the platform's state, sessions and pub/sub.</summary>
    public int RedisDatabase { get; private set; }

    public SigningKeyFile SigningKeys { get; private set; } = null!;

    /// <summary>The name-resolution database of the platform's sidecars.</summary>
    public string NameResolution { get; private set; } = "";

    /// <summary>Receives every event of <see cref="Topics"/>.</summary>
    public CallbackApp Subscriber { get; private set; } = null!;

    public SidecarProcess SubscriberSidecar { get; private set; } = null!;

    /// <summary>The sidecar clients call in through (<see cref="GatewayAppId"/>).</summary>
    public SidecarProcess GatewaySidecar { get; private set; } = null!;

    /// <summary>The bootstrap administrator's tokens (signed in at start when the platform runs the user and auth apps).</summary>
    public TokenPair Admin { get; private set; } = null!;

    /// <summary>Each running app's API token (APP_API_TOKEN), which its sidecar presents and it requires.</summary>
    public IReadOnlyDictionary<string, string> AppApiTokens => _appApiTokens;

    /// <summary>The connection string of a running app's database.</summary>
    public string Database(string appId) => _databases[appId];

    /// <summary>A running app's own sidecar (after a restart, the replacement).</summary>
    public SidecarProcess Sidecar(string appId) => _sidecars[appId];

    /// <summary>A running app's process (after a restart, the new one).</summary>
    public AppProcess App(string appId) => _apps[appId];

    public string UserDatabase => Database(UserAppId);

    public string AuthDatabase => Database(AuthAppId);

    public SidecarProcess UserSidecar => Sidecar(UserAppId);

    public SidecarProcess AuthSidecar => Sidecar(AuthAppId);

    public AppProcess UserApp => App(UserAppId);

    public AppProcess AuthApp => App(AuthAppId);

    /// <summary>Every topic the running apps publish, as their events.proto declare them (the subscriber receives them all).</summary>
    public virtual IEnumerable<string> Topics => TopicName.Declared().Where(topic => apps.Contains(topic.Split('.')[0]));

    /// <summary>
    /// An app's environment beyond its ports: its database, migrations at start, and what the tests need of it (rate
    /// limits out of the way, since every test calls from 127.0.0.1; the bootstrap administrator; signing keys re-read
    /// every second). Override <see cref="Configure"/> to change it.
    /// </summary>
    public Dictionary<string, string?> Settings(string appId)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Database"] = Database(appId),
            ["Service__MigrateOnStartup"] = "true",
        };
        switch (appId)
        {
            case UserAppId:
                settings["User__BootstrapAdmin__Username"] = AdminUsername;
                settings["User__BootstrapAdmin__Email"] = AdminEmail;
                settings["User__BootstrapAdmin__Password"] = AdminPassword;
                settings["User__RateLimits__SignUpsPerAddress"] = "100000";
                settings["User__RateLimits__PasswordChangesPerAccount"] = "100000";
                break;
            case AuthAppId:
                settings["Auth__AccessTokenLifetime"] = "00:30:00";
                settings["Auth__SigningKeys__RefreshInterval"] = "00:00:01";
                settings["Auth__RateLimits__PerAccount"] = "100000";
                settings["Auth__RateLimits__PerAddress"] = "100000";
                break;
        }
        Configure(appId, settings);
        settings["APP_API_TOKEN"] = _appApiTokens[appId];
        return settings;
    }

    /// <summary>Starts what the platform's apps need besides PostgreSQL and Redis (an SMTP server, its component), before any sidecar starts.</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    /// <summary>Changes what <see cref="Settings"/> gives <paramref name="appId"/> (environment variable names, e.g. <c>Finance__BalanceCacheTtl</c>).</summary>
    protected virtual void Configure(string appId, Dictionary<string, string?> settings)
    {
    }

    /// <summary>The local platform's sidecar configuration, with the access control the access table asks for.</summary>
    public static string AccessControlConfig => Path.Combine(RepositoryRoot.Find()!, "components", "config.yaml");

    /// <summary>The Configuration the apps' sidecars start with (e.g. the benchmark's, which adds a trace exporter).</summary>
    protected virtual string SidecarConfig => AccessControlConfig;

    /// <summary>How to start a running app's sidecar: the platform's resources, access control and name resolution, and a new app API token.</summary>
    private SidecarLaunch AppLaunch(string appId)
    {
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _appApiTokens[appId] = token;
        return new SidecarLaunch(appId, Resources.Directory)
        {
            AppPort = FreePort.Next(),
            ConfigFile = SidecarConfig,
            NameResolutionDatabase = NameResolution,
            Environment = new Dictionary<string, string?> { ["APP_API_TOKEN"] = token },
        };
    }

    /// <summary>A sidecar of the platform for a caller without an app, or for a test app on <paramref name="appPort"/>.</summary>
    protected SidecarLaunch CallerLaunch(string appId, int appPort = 0) =>
        new(appId, Resources.Directory) { AppPort = appPort, NameResolutionDatabase = NameResolution };

    protected override async Task StartAsync()
    {
        if (ownsServers)
        {
            // Owned first, so they go last, after the apps and sidecars that use them.
            Own(postgres);
            Own(redis);
            await Task.WhenAll(postgres.InitializeAsync().AsTask(), redis.InitializeAsync().AsTask());
        }
        var databases = await Task.WhenAll(apps.Select(app => postgres.CreateDatabaseAsync(app)));
        foreach (var (app, database) in apps.Zip(databases))
        {
            _databases[app] = database;
        }
        RedisDatabase = redis.NewDatabase();
        NameResolution = NewFolder().PathOf("nameresolution.db");
        SigningKeys = new SigningKeyFile(NewFolder().PathOf("signing-keys.json")).Add("2026-01-01");
        var redisDb = new Dictionary<string, string> { ["redisDB"] = RedisDatabase.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        Resources.RedisState("statestore", redis, redisDb)
            .RedisState("sessionstore", redis, new Dictionary<string, string>(redisDb) { ["keyPrefix"] = "name" })
            .RedisPubSub("pubsub", redis, redisDb)
            .Component("secretstore", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = SigningKeys.Path, ["multiValued"] = "true" });

        await PrepareAsync();

        var launches = apps.Select(AppLaunch).ToList();
        Subscriber = Own(await CallbackApp.StartAsync(UniqueName.Create("events"), app =>
        {
            foreach (var topic in Topics)
            {
                app.Subscribe("pubsub", topic);
            }
        }));
        // Ready only once their apps answer, so the sidecars are awaited after the apps start.
        var sidecars = Own(await Task.WhenAll(launches.Select(launch => SidecarProcess.StartAsync(launch))
            .Append(SidecarProcess.StartAsync(CallerLaunch(Subscriber.AppId, Subscriber.Port)))
            .Append(SidecarProcess.StartAsync(CallerLaunch(GatewayAppId)))));
        (SubscriberSidecar, GatewaySidecar) = (sidecars[^2], sidecars[^1]);
        foreach (var (app, sidecar) in apps.Zip(sidecars))
        {
            _sidecars[app] = sidecar;
        }
        var processes = Own(await Task.WhenAll(apps.Select(app => AppProcess.StartAsync(app, _sidecars[app].Launch.AppPort, _sidecars[app], Settings(app)))));
        foreach (var (app, process) in apps.Zip(processes))
        {
            _apps[app] = process;
        }
        await Task.WhenAll(sidecars.Select(sidecar => sidecar.WaitReadyAsync()));
        if (apps.Contains(UserAppId) && apps.Contains(AuthAppId))
        {
            await SignInAdminAsync();
        }
    }

    /// <summary>
    /// The sidecar through which a call acts as app <paramref name="appId"/> (it stamps the caller's app ID): a running
    /// app's own, or, for an app this platform does not run, a sidecar of its own started on first use.
    /// </summary>
    public Task<SidecarProcess> SidecarOfAsync(string appId)
    {
        if (_sidecars.TryGetValue(appId, out var own))
        {
            return Task.FromResult(own);
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

    /// <summary>Stops a running app's sidecar and starts it again on the same ports (e.g. to re-read the secret file); waits until it is ready.</summary>
    public async Task RestartSidecarAsync(string appId)
    {
        await Sidecar(appId).StopAsync();
        await StartSidecarAgainAsync(appId);
    }

    /// <summary>Starts a sidecar for a running app after its sidecar was stopped, on the same ports the app talks to; waits until it is ready.</summary>
    public async Task StartSidecarAgainAsync(string appId)
    {
        var stopped = Sidecar(appId);
        _sidecars[appId] = Own(await SidecarProcess.StartAsync(stopped.Launch, stopped.Ports));
        await _sidecars[appId].WaitReadyAsync();
    }

    /// <summary>Stops a running app and starts it again alike (same port, same environment); waits until it is ready.</summary>
    public async Task RestartAppAsync(string appId)
    {
        await App(appId).StopAsync();
        _apps[appId] = Own(await AppProcess.StartAsync(appId, Sidecar(appId).Launch.AppPort, Sidecar(appId), Settings(appId)));
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
