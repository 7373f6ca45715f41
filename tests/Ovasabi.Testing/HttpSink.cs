using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ovasabi.Testing;

/// <summary>One request an <see cref="HttpSink"/> received.</summary>
public sealed record SinkRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset ReceivedAt);

/// <summary>
/// A real HTTP server on a loopback port standing in for a provider that bindings.http posts to (an SMS gateway, a
/// webhook receiver): it keeps every request and answers <see cref="StatusCode"/>, which a test may change to act out a
/// provider that refuses or fails. <c>GET /messages</c> lists what it kept (path, headers, raw body) for other processes.
/// </summary>
public sealed class HttpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SinkRequest> _received = new();

    private HttpSink(WebApplication app, int port) => (_app, Url) = (app, $"http://127.0.0.1:{port}");

    public string Url { get; }

    /// <summary>What every request is answered with; 202 Accepted unless a test says otherwise.</summary>
    public int StatusCode { get; set; } = StatusCodes.Status202Accepted;

    public IReadOnlyList<SinkRequest> Received => [.. _received];

    public static async Task<HttpSink> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new HttpSink(app, port);
        app.Run(async context =>
        {
            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/messages")
            {
                // What was received, as tools/local/http-sink.js lists it, for processes that read it (make demo).
                await context.Response.WriteAsJsonAsync(sink.Received.Select(r => new { path = r.Path, headers = r.Headers, raw = r.Body }), context.RequestAborted);
                return;
            }
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            sink._received.Enqueue(new SinkRequest(context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, DateTimeOffset.UtcNow));
            context.Response.StatusCode = sink.StatusCode;
        });
        await app.StartAsync();
        return sink;
    }

    /// <summary>The first request that <paramref name="matches"/>, waiting up to 30 s for it.</summary>
    public async Task<SinkRequest> WaitForAsync(Func<SinkRequest, bool> matches, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_received.FirstOrDefault(matches) is { } request)
            {
                return request;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no matching request within 30 s; received {_received.Count}: "
                                           + string.Join(", ", _received.Select(r => $"{r.Method} {r.Path}")));
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
