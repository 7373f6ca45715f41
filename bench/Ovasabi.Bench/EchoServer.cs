using System.Globalization;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ovasabi.Testing;
using Ovasabi.Testing.Protos;

namespace Ovasabi.Bench;

/// <summary>
/// The floor phase's app: <c>ovasabi.testing.v1.Echo/Say</c> answered with the request's text, nothing logged below
/// warnings and nothing recorded per call, on loopback HTTP/2 cleartext as the apps serve gRPC. It runs as a process
/// of its own (this benchmark's hidden <see cref="Command"/>), so its CPU is read like an app's.
/// </summary>
internal static class EchoServer
{
    /// <summary>The app ID its sidecar serves it under.</summary>
    public const string AppId = "echo";

    public const string Command = "echo-server";

    /// <summary>Answers the methods its JIT compiled so far, so the warm-up can wait for it as it waits for the finance app's.</summary>
    public const string CompiledMethodsPath = "/jit-compiled-methods";

    public static async Task<int> RunAsync(int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<EchoService>();
        app.MapGet(CompiledMethodsPath, () => System.Runtime.JitInfo.GetCompiledMethodCount().ToString(CultureInfo.InvariantCulture));
        // The host's own RunAsync, which stops on the token (WebApplication's takes a URL instead).
        await HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken);
        return 0;
    }

    private sealed class EchoService : Echo.EchoBase
    {
        public override Task<SayReply> Say(SayRequest request, ServerCallContext context) => Task.FromResult(new SayReply { Text = request.Text });
    }
}

/// <summary>The echo server started as the platform's apps are (<c>dotnet</c>, workstation GC); disposing it kills it.</summary>
internal sealed class EchoServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ManagedProcess _process;
    private readonly HttpClient _http;

    private EchoServerProcess(ManagedProcess process, int port)
    {
        _process = process;
        Port = port;
        // The port speaks HTTP/2 only, so the client must too, without asking for an upgrade.
        _http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public int Port { get; }

    /// <summary>The CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime => _process.CpuTime;

    /// <summary>Starts the server on a free port and waits until it answers.</summary>
    public static async Task<EchoServerProcess> StartAsync(CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var process = ManagedProcess.Start(new ProcessCommand("dotnet", [typeof(EchoServer).Assembly.Location, EchoServer.Command, "--port", port.ToString(CultureInfo.InvariantCulture)])
        {
            Name = EchoServer.Command,
            Environment = new Dictionary<string, string?> { ["DOTNET_gcServer"] = "0" },
        });
        var server = new EchoServerProcess(process, port);
        try
        {
            await process.WaitUntilReadyAsync(server.AnswersAsync, StartTimeout, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Methods the server's JIT compiled so far.</summary>
    public async Task<double> CompiledMethodsAsync(CancellationToken cancellationToken) =>
        double.Parse(await _http.GetStringAsync(EchoServer.CompiledMethodsPath, cancellationToken), CultureInfo.InvariantCulture);

    private async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CompiledMethodsAsync(cancellationToken);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.DisposeAsync();
    }
}
