using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ovasabi.Testing.Protos;
using Ovasabi.Testing;

namespace Ovasabi.Testing.Sidecars;

/// <summary>What a test app received: an event or an invocation, with the headers it came with.</summary>
public sealed record Received(string Kind, string Path, byte[] Body, IReadOnlyDictionary<string, string> Headers, IMessage? Message = null)
{
    public TopicEventRequest Event => (TopicEventRequest)Message!;

    /// <summary>The Jobs API trigger a gRPC app received (kind "job" through OnJobEvent, "job-alpha1" through OnJobEventAlpha1).</summary>
    public JobEventRequest Job => (JobEventRequest)Message!;

    /// <summary>When it arrived.</summary>
    public DateTimeOffset Time { get; } = DateTimeOffset.UtcNow;

    /// <summary>The AppCallback OnInvoke request a gRPC app received.</summary>
    public InvokeRequest Invocation => (InvokeRequest)Message!;

    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>A small in-process app on a free loopback port; tests watch what reaches it.</summary>
public abstract class TestApp : IAsyncDisposable
{
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly SemaphoreSlim _arrivals = new(0);
    private WebApplication? _app;

    protected TestApp(string appId)
    {
        AppId = appId;
        Port = FreePort.Next();
    }

    public string AppId { get; }

    public int Port { get; }

    public IReadOnlyList<Received> All => [.. _received];

    protected void Record(Received received)
    {
        _received.Enqueue(received);
        _arrivals.Release();
    }

    /// <summary>Waits until <paramref name="count"/> received items match, or fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<Received>> WaitForAsync(Func<Received, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var matches = _received.Where(match).ToList();
            if (matches.Count >= count)
            {
                return matches;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{AppId}: expected {count} matching items, got {matches.Count} (of {_received.Count} received)");
            }
            await _arrivals.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Waits a short while and returns everything that matched, for asserting that something did NOT arrive.</summary>
    public async Task<IReadOnlyList<Received>> SettleAsync(Func<Received, bool> match, TimeSpan quiet)
    {
        await Task.Delay(quiet);
        return _received.Where(match).ToList();
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, o => o.Protocols = Protocols));
        Configure(builder.Services);
        _app = builder.Build();
        Map(_app);
        await _app.StartAsync();
    }

    /// <summary>Configures <paramref name="app"/>, starts it and returns it; disposes it if it does not start.</summary>
    protected static async Task<T> ConfigureAndStartAsync<T>(T app, Action<T>? configure) where T : TestApp
    {
        try
        {
            configure?.Invoke(app);
            await app.StartAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    protected abstract HttpProtocols Protocols { get; }

    protected virtual void Configure(IServiceCollection services)
    {
    }

    protected abstract void Map(WebApplication app);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _arrivals.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static Dictionary<string, string> Headers(IHeaderDictionary headers) =>
        headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
}

/// <summary>An app that runs with app-protocol grpc: Dapr's AppCallback service plus a test Echo service.</summary>
public sealed class CallbackApp(string appId) : TestApp(appId)
{
    /// <summary>The subscriptions ListTopicSubscriptions answers with.</summary>
    public List<TopicSubscription> Subscriptions { get; } = [];

    /// <summary>The status OnTopicEvent answers for an event (SUCCESS by default); throwing answers with that RpcException.</summary>
    public Func<TopicEventRequest, TopicEventResponse.Types.TopicEventResponseStatus> OnEvent { get; set; } = _ => TopicEventResponse.Types.TopicEventResponseStatus.Success;

    /// <summary>
    /// What OnJobEvent answers: null is OK, a code is that error. <see cref="StatusCode.Unimplemented"/> is what an app
    /// without the method answers, so the sidecar falls back to OnJobEventAlpha1, which always answers OK.
    /// </summary>
    public Func<JobEventRequest, StatusCode?> OnJob { get; set; } = _ => null;

    public CallbackApp Subscribe(string pubsub, string topic, string? deadLetterTopic = null, string path = "")
    {
        var subscription = new TopicSubscription { PubsubName = pubsub, Topic = topic, DeadLetterTopic = deadLetterTopic ?? "" };
        if (path.Length > 0)
        {
            subscription.Routes = new TopicRoutes { Default = path };
        }
        Subscriptions.Add(subscription);
        return this;
    }

    public static Task<CallbackApp> StartAsync(string appId, Action<CallbackApp>? configure = null) => ConfigureAndStartAsync(new CallbackApp(appId), configure);

    protected override HttpProtocols Protocols => HttpProtocols.Http2;

    protected override void Configure(IServiceCollection services)
    {
        services.AddGrpc();
        services.AddSingleton(this);
    }

    protected override void Map(WebApplication app)
    {
        app.MapGrpcService<Callback>();
        app.MapGrpcService<AlphaCallback>();
        app.MapGrpcService<EchoService>();
    }

    internal void Seen(string kind, string path, IMessage message, ServerCallContext context) =>
        Record(new Received(kind, path, message.ToByteArray(),
            context.RequestHeaders.Where(h => !h.IsBinary).GroupBy(h => h.Key).ToDictionary(g => g.Key, g => g.First().Value), message));

    private sealed class Callback(CallbackApp app) : AppCallback.AppCallbackBase
    {
        public override Task<ListTopicSubscriptionsResponse> ListTopicSubscriptions(Empty request, ServerCallContext context)
        {
            var response = new ListTopicSubscriptionsResponse();
            response.Subscriptions.AddRange(app.Subscriptions);
            return Task.FromResult(response);
        }

        public override Task<TopicEventResponse> OnTopicEvent(TopicEventRequest request, ServerCallContext context)
        {
            app.Seen("event", request.Path, request, context);
            return Task.FromResult(new TopicEventResponse { Status = app.OnEvent(request) });
        }

        public override Task<JobEventResponse> OnJobEvent(JobEventRequest request, ServerCallContext context)
        {
            var answer = app.OnJob(request);
            if (answer != StatusCode.Unimplemented)
            {
                app.Seen("job", request.Method, request, context);
            }
            return answer is { } code
                ? throw new RpcException(new Status(code, $"asked to answer {code}"))
                : Task.FromResult(new JobEventResponse());
        }

        public override Task<InvokeResponse> OnInvoke(InvokeRequest request, ServerCallContext context)
        {
            app.Seen("invoke", request.Method, request, context);
            var echo = new JsonObject
            {
                ["method"] = request.Method,
                ["verb"] = request.HttpExtension?.Verb.ToString(),
                ["query"] = request.HttpExtension?.Querystring,
                ["body"] = request.Data?.Value.ToStringUtf8(),
                ["contentType"] = request.ContentType,
            };
            return Task.FromResult(new InvokeResponse
            {
                Data = new Any { Value = ByteString.CopyFromUtf8(echo.ToJsonString()) },
                ContentType = "application/json",
            });
        }
    }

    private sealed class AlphaCallback(CallbackApp app) : AppCallbackAlpha.AppCallbackAlphaBase
    {
        [Obsolete("daprd's older trigger method, still called when an app lacks OnJobEvent")]
        public override Task<JobEventResponse> OnJobEventAlpha1(JobEventRequest request, ServerCallContext context)
        {
            app.Seen("job-alpha1", request.Method, request, context);
            return Task.FromResult(new JobEventResponse());
        }
    }

    private sealed class EchoService(CallbackApp app) : Echo.EchoBase
    {
        public override Task<SayReply> Say(SayRequest request, ServerCallContext context)
        {
            app.Seen("say", "/ovasabi.testing.v1.Echo/Say", request, context);
            if (request.Text == "fail")
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, "asked to fail"));
            }
            var reply = new SayReply { Text = request.Text, ServedBy = app.AppId, Headers = { [":authority"] = context.Host } };
            foreach (var header in context.RequestHeaders.Where(h => !h.IsBinary))
            {
                reply.Headers[header.Key] = header.Value;
            }
            return Task.FromResult(reply);
        }

        public override async Task Count(CountRequest request, IServerStreamWriter<CountReply> responseStream, ServerCallContext context)
        {
            for (var i = 1; i <= request.UpTo; i++)
            {
                await responseStream.WriteAsync(new CountReply { Value = i }, context.CancellationToken);
            }
        }
    }
}

/// <summary>
/// An app that runs with app-protocol http: <c>/dapr/subscribe</c>, event routes and an echo of every other request
/// (recorded with its raw target, answered as JSON with an <c>x-echo-app</c> header and the status <c>?status=</c> asks for).
/// </summary>
public sealed class HttpTestApp(string appId) : TestApp(appId)
{
    private readonly ConcurrentDictionary<string, int> _requestsPerTarget = new(StringComparer.Ordinal);

    /// <summary>The JSON array <c>GET /dapr/subscribe</c> answers (daprd reads camelCase or lower-case names).</summary>
    public JsonArray Subscriptions { get; } = [];

    /// <summary>The status code and body an event delivery gets (200 and no body by default).</summary>
    public Func<Received, (int Status, string? Body)> OnEvent { get; set; } = _ => (200, null);

    public static Task<HttpTestApp> StartAsync(string appId, Action<HttpTestApp>? configure = null) => ConfigureAndStartAsync(new HttpTestApp(appId), configure);

    protected override HttpProtocols Protocols => HttpProtocols.Http1;

    protected override void Map(WebApplication app)
    {
        app.MapGet("/dapr/subscribe", () => Results.Text(Subscriptions.ToJsonString(), "application/json"));
        app.MapPost("/events/{**route}", async (HttpContext context) =>
        {
            var received = new Received("event", context.Request.Path, await Body(context), Headers(context.Request.Headers));
            Record(received);
            var (status, body) = OnEvent(received);
            return body is null ? Results.StatusCode(status) : Results.Text(body, "application/json", statusCode: status);
        });
        app.Map("/{**path}", async (HttpContext context) =>
        {
            var body = await Body(context);
            var target = RawTarget(context);
            Record(new Received("invoke", target, body, Headers(context.Request.Headers)));
            if (context.Request.Query.TryGetValue("delayMs", out var delay))
            {
                // A slow callee, for timeout policies.
                await Task.Delay(int.Parse(delay!, System.Globalization.CultureInfo.InvariantCulture), context.RequestAborted);
            }
            context.Response.Headers["x-echo-app"] = AppId;
            var status = StatusFor(context, target);
            return Results.Json(new JsonObject
            {
                ["method"] = context.Request.Method,
                ["path"] = context.Request.Path.Value,
                ["rawTarget"] = target,
                ["query"] = context.Request.QueryString.Value,
                ["body"] = System.Text.Encoding.UTF8.GetString(body),
                ["contentType"] = context.Request.ContentType,
                ["callerAppId"] = context.Request.Headers["dapr-caller-app-id"].ToString(),
                ["calleeAppId"] = context.Request.Headers["dapr-callee-app-id"].ToString(),
                ["apiToken"] = context.Request.Headers["dapr-api-token"].ToString(),
                ["traceparent"] = context.Request.Headers["traceparent"].ToString(),
            }, statusCode: status);
        });
    }

    /// <summary>
    /// <c>?status=NNN</c> answers NNN; with <c>&amp;statusCount=N</c> only the first N requests with this exact target
    /// (path and query) do, later ones answer 200 — a callee that fails a few times and then recovers.
    /// </summary>
    private int StatusFor(HttpContext context, string target)
    {
        if (!context.Request.Query.TryGetValue("status", out var wanted))
        {
            return 200;
        }
        var status = int.Parse(wanted!, System.Globalization.CultureInfo.InvariantCulture);
        if (!context.Request.Query.TryGetValue("statusCount", out var count))
        {
            return status;
        }
        var seen = _requestsPerTarget.AddOrUpdate(target, 1, (_, n) => n + 1);
        return seen <= int.Parse(count!, System.Globalization.CultureInfo.InvariantCulture) ? status : 200;
    }

    /// <summary>The request target exactly as it arrived (still escaped), which is what the sidecar is to preserve.</summary>
    private static string RawTarget(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget
        ?? context.Request.Path + context.Request.QueryString;

    private static async Task<byte[]> Body(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
