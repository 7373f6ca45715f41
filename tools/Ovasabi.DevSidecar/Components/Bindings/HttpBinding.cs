using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// <c>bindings.http</c>: one HTTP request per call to the component's <c>url</c> (plus the request's <c>path</c>),
/// the operation naming the method, request metadata keys that start with an upper-case letter sent as headers, and
/// the answer's status and headers returned as metadata, the way daprd's Go client does it.
/// </summary>
internal sealed partial class HttpBinding : IOutputBinding
{
    private const string PathKey = "path";
    private const string ErrorIfNot2XXKey = "errorIfNot2XX";
    private const string JsonUtf8 = "application/json; charset=utf-8";
    private const long DefaultMaxResponseBodySize = 100L << 20;

    // Metadata keys daprd copies into headers after the upper-case ones, so the caller's trace context always wins.
    private static readonly string[] TraceKeys = ["traceparent", "tracestate", "baggage"];

    // Go's client takes these from the request itself, never from its header map.
    private static readonly HashSet<string> IgnoredHeaders = new(["Host", "Content-Length", "Transfer-Encoding", "Trailer"], StringComparer.Ordinal);

    /// <summary>
    /// Marks the binding's requests so the sidecar's tracing leaves them alone: daprd sends the caller's trace context
    /// as it came in the metadata and starts no client span of its own.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> Untraced = new("ovasabi.bindings.http");

    // The headers .NET accepts only on a request's content.
    private static readonly HashSet<string> ContentHeaders = new(
        ["Allow", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Location", "Content-Md5", "Content-Range", "Content-Type", "Expires", "Last-Modified"],
        StringComparer.OrdinalIgnoreCase);

    private readonly HttpClient _client;
    private readonly string _url;
    private readonly TimeSpan? _responseTimeout;
    private readonly long _maxResponseBodySize;
    private readonly string? _securityToken;
    private readonly string? _securityTokenHeader;
    private readonly bool _errorIfNot2XX;

    public HttpBinding(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        _url = metadata.Get("url") ?? "";
        _responseTimeout = metadata.Get("responseTimeout") is null
            ? null
            : metadata.Duration("responseTimeout", TimeSpan.Zero, plainUnit: TimeSpan.FromSeconds(1));
        _maxResponseBodySize = metadata.Get("maxResponseBodySize") is { } size
            ? Sizes.TryParseQuantity(size) ?? throw metadata.Error("maxResponseBodySize", $"invalid value for maxResponseBodySize: '{size}' is not a byte quantity (e.g. 100Mi, 64k, 4096)")
            : DefaultMaxResponseBodySize;
        _securityToken = metadata.Get("securityToken");
        _securityTokenHeader = metadata.Get("securityTokenHeader");
        // daprd reads this one from the raw property map, so only this spelling counts.
        _errorIfNot2XX = metadata.Exact(ErrorIfNot2XXKey) is { Length: > 0 } flag ? GoCompat.IsTruthy(flag) : true;

        var handler = new SocketsHttpHandler
        {
            // Go's transport: 15 s to connect (Go gives TCP and the TLS handshake 15 s each), idle connections kept
            // 90 s, at most 10 redirects, gzip asked for and decoded, and no cookie jar.
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            MaxAutomaticRedirections = 10,
            AutomaticDecompression = DecompressionMethods.GZip,
            UseCookies = false,
            SslOptions = TlsOptions(metadata, context.WorkingDirectory),
            // The trace headers come from the request metadata, as in daprd; .NET would put its own span's there.
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public IReadOnlyList<string> Operations { get; } = ["create", "get", "head", "post", "put", "patch", "delete", "options", "trace"];

    /// <summary>daprd checks nothing at start: a missing or wrong <c>url</c> fails each call.</summary>
    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var metadata = request.Metadata;
        var url = metadata.TryGetValue(PathKey, out var path) && path.Length > 0
            ? _url.TrimEnd('/') + "/" + path.TrimStart('/')
            : _url;
        var errorIfNot2XX = metadata.TryGetValue(ErrorIfNot2XXKey, out var flag) && flag.Length > 0 ? GoCompat.IsTruthy(flag) : _errorIfNot2XX;
        var method = request.Operation == "create" ? "POST" : request.Operation.ToUpperInvariant();
        // Go names the method this way in its errors: "Post", "Get".
        var errorPrefix = $"{method[0]}{method[1..].ToLowerInvariant()} {GoCompat.Quote(url)}: ";

        var scheme = SchemeOf(url);
        if (scheme is not ("http" or "https") || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new BindingException(errorPrefix + $"unsupported protocol scheme {GoCompat.Quote(scheme)}");
        }
        using var message = Message(method, uri, request);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_responseTimeout is { } timeout)
        {
            deadline.CancelAfter(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero);
        }
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Either responseTimeout ran out or connecting took longer than 15 s.
            throw new BindingException(errorPrefix + (deadline.IsCancellationRequested ? "context deadline exceeded" : $"dial tcp {HostPort(uri)}: i/o timeout"), e);
        }
        catch (HttpRequestException e)
        {
            throw new BindingException(errorPrefix + TransportError(e, uri), e);
        }
        using (response)
        {
            byte[] data;
            try
            {
                data = await ReadBodyAsync(response, deadline.Token);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new BindingException("context deadline exceeded", e);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new BindingException(e.Message, e);
            }
            var result = new BindingResponse(data, ResponseMetadata(response));
            var code = (int)response.StatusCode;
            return errorIfNot2XX && code / 100 != 2
                ? throw new BindingException($"received status code {code}", response: result)
                : result;
        }
    }

    private HttpRequestMessage Message(string method, Uri uri, BindingRequest request)
    {
        var message = new HttpRequestMessage(new HttpMethod(method), uri);
        message.Options.Set(Untraced, true);
        var metadata = request.Metadata;
        if (method is "POST" or "PUT" or "PATCH")
        {
            message.Content = new ByteArrayContent(request.Data);
            if (!metadata.ContainsKey("Content-Type"))
            {
                SetHeader(message, "Content-Type", JsonUtf8);
            }
        }
        if (!metadata.ContainsKey("Accept"))
        {
            SetHeader(message, "Accept", JsonUtf8);
        }
        SetHeader(message, "User-Agent", "Go-http-client/1.1");
        if (_securityToken is not null && _securityTokenHeader is not null)
        {
            SetHeader(message, _securityTokenHeader, _securityToken);
        }
        foreach (var (key, value) in metadata)
        {
            if (key.Length > 0 && char.IsAsciiLetterUpper(key[0]))
            {
                SetHeader(message, key, value);
            }
        }
        foreach (var key in TraceKeys)
        {
            if (metadata.TryGetValue(key, out var value) && value.Length > 0)
            {
                SetHeader(message, key, value);
            }
        }
        return message;
    }

    /// <summary>
    /// Go's Header.Set: the canonical name, replacing earlier values. .NET keeps content headers on the body, so a
    /// request without one cannot carry them.
    /// </summary>
    private static void SetHeader(HttpRequestMessage message, string name, string value)
    {
        var canonical = GoCompat.CanonicalHeaderKey(name);
        if (IgnoredHeaders.Contains(canonical))
        {
            return;
        }
        System.Net.Http.Headers.HttpHeaders? headers = ContentHeaders.Contains(canonical) ? message.Content?.Headers : message.Headers;
        headers?.Remove(canonical);
        headers?.TryAddWithoutValidation(canonical, value);
    }

    /// <summary>The body up to <c>maxResponseBodySize</c>; the rest is dropped without an error, as daprd does.</summary>
    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var limit = _maxResponseBodySize > 0 ? _maxResponseBodySize : long.MaxValue;
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        while (body.Length < limit)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - body.Length)), cancellationToken);
            if (read == 0)
            {
                break;
            }
            body.Write(buffer, 0, read);
        }
        return body.ToArray();
    }

    /// <summary>
    /// <c>statusCode</c>, <c>status</c> (the status line, "404 Not Found") and every header under its Go canonical
    /// name, repeated values joined with ", ". Go keeps Transfer-Encoding out of the header map.
    /// </summary>
    private static Dictionary<string, string> ResponseMetadata(HttpResponseMessage response)
    {
        var code = (int)response.StatusCode;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["statusCode"] = code.ToString(CultureInfo.InvariantCulture),
            ["status"] = $"{code} {response.ReasonPhrase}",
        };
        foreach (var (name, values) in response.Headers.NonValidated.Concat(response.Content.Headers.NonValidated))
        {
            var canonical = GoCompat.CanonicalHeaderKey(name);
            if (canonical != "Transfer-Encoding")
            {
                metadata[canonical] = string.Join(", ", values);
            }
        }
        return metadata;
    }

    /// <summary>What Go's dialer says for the usual connection failures; anything else in .NET's words.</summary>
    private static string TransportError(HttpRequestException error, Uri uri)
    {
        var socket = error.InnerException as SocketException;
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => $"dial tcp {HostPort(uri)}: connect: connection refused",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"dial tcp: lookup {uri.IdnHost}: no such host",
            SocketError.TimedOut => $"dial tcp {HostPort(uri)}: i/o timeout",
            _ => error.InnerException switch
            {
                TimeoutException => $"dial tcp {HostPort(uri)}: i/o timeout",
                AuthenticationException tls => tls.Message,
                _ => error.Message,
            },
        };
    }

    private static string HostPort(Uri uri) =>
        (uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost}]" : uri.IdnHost) + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The URL's scheme as Go's url.Parse reads it (lower-cased), or "" when there is none.</summary>
    private static string SchemeOf(string url)
    {
        var match = Scheme().Match(url);
        return match.Success ? match.Groups[1].Value.ToLowerInvariant() : "";
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*):")]
    private static partial Regex Scheme();

    /// <summary>
    /// TLS as daprd sets it up: at least TLS 1.2; <c>MTLSRootCA</c> replaces the system roots; <c>MTLSClientCert</c>
    /// with <c>MTLSClientKey</c> is the client certificate; <c>MTLSRenegotiation</c> allows renegotiation or not.
    /// Each is PEM text or else a file path.
    /// </summary>
    private static SslClientAuthenticationOptions TlsOptions(ComponentMetadata metadata, string workingDirectory)
    {
        var options = new SslClientAuthenticationOptions { EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 };
        if (metadata.Get("MTLSRootCA") is { } rootCa)
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPem(Pem(metadata, "MTLSRootCA", rootCa, workingDirectory));
            }
            catch (CryptographicException e)
            {
                throw metadata.Error("MTLSRootCA", $"failed to add root certificate to certpool: {e.Message}");
            }
            if (roots.Count == 0)
            {
                throw metadata.Error("MTLSRootCA", "failed to add root certificate to certpool");
            }
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(roots);
            options.CertificateChainPolicy = policy;
        }
        if (metadata.Get("MTLSClientCert") is { } certificate && metadata.Get("MTLSClientKey") is { } key)
        {
            try
            {
                options.ClientCertificates = [X509Certificate2.CreateFromPem(
                    Pem(metadata, "MTLSClientCert", certificate, workingDirectory),
                    Pem(metadata, "MTLSClientKey", key, workingDirectory))];
            }
            catch (CryptographicException e)
            {
                throw metadata.Error("MTLSClientCert", $"failed to load client certificate: {e.Message}");
            }
        }
        if (metadata.Get("MTLSRenegotiation") is { } renegotiation)
        {
            options.AllowRenegotiation = renegotiation switch
            {
                "RenegotiateNever" => false,
                "RenegotiateOnceAsClient" or "RenegotiateFreelyAsClient" => true,
                _ => throw metadata.Error("MTLSRenegotiation", $"invalid renegotiation value: {renegotiation}"),
            };
        }
        return options;
    }

    /// <summary>The value when it holds a PEM block, else the contents of the file it names.</summary>
    private static string Pem(ComponentMetadata metadata, string field, string value, string workingDirectory)
    {
        if (value.Contains("-----BEGIN ", StringComparison.Ordinal))
        {
            return value;
        }
        try
        {
            return File.ReadAllText(Path.Combine(workingDirectory, value));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw metadata.Error(field, $"provided \"{field}\" value is neither a valid file path or nor a valid pem encoded string: {e.Message}");
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
