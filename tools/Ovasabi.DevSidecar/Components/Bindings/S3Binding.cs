using System.Net;
using System.Text;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// <c>bindings.aws.s3</c>: objects in one bucket of S3 or an S3-compatible server (MinIO, s3rver), with daprd's
/// create/get/delete/list/presign semantics. Every upload is a single PutObject without aws-chunked encoding,
/// which s3rver would otherwise store verbatim (see build-environment.md §3).
/// </summary>
internal sealed class S3Binding : IOutputBinding
{
    public const string Create = "create";
    public const string Get = "get";
    public const string Delete = "delete";
    public const string List = "list";
    public const string Presign = "presign";

    private const string KeyKey = "key";
    private const string DecodeBase64Key = "decodeBase64";
    private const string EncodeBase64Key = "encodeBase64";
    private const string PresignTtlKey = "presignTTL";
    private const string StorageClassKey = "storageClass";
    private const string FilePathKey = "filePath";
    private const string ContentTypeKey = "Content-Type";
    private const string TagsKey = "tags";
    private const int DefaultMaxResults = 1000;

    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string? _endpoint;
    private readonly bool _forcePathStyle;
    private readonly bool _decodeBase64;
    private readonly bool _encodeBase64;
    private readonly string? _storageClass;
    private readonly string _workingDirectory;
    private readonly TimeProvider _time;

    public S3Binding(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        _time = context.Time;
        _workingDirectory = context.WorkingDirectory;
        _bucket = metadata.Required("bucket");
        var region = metadata.Get("region", "awsRegion");
        var disableSsl = metadata.Bool("disableSSL", false);
        _forcePathStyle = metadata.Bool("forcePathStyle", false);
        _decodeBase64 = metadata.Bool(DecodeBase64Key, false);
        _encodeBase64 = metadata.Bool(EncodeBase64Key, false);
        _storageClass = metadata.Get(StorageClassKey);
        _endpoint = metadata.Get("endpoint");
        if (_endpoint is not null && disableSsl && !HasScheme(_endpoint))
        {
            _endpoint = "http://" + _endpoint;
        }

        var config = new AmazonS3Config { ForcePathStyle = _forcePathStyle, UseHttp = disableSsl };
        if (_endpoint is not null)
        {
            var serviceUrl = HasScheme(_endpoint) ? _endpoint : "https://" + _endpoint;
            if (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out _))
            {
                throw metadata.Error("endpoint", $"'{_endpoint}' is not a URL");
            }
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        else if (region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        if (metadata.Bool("insecureSSL", false))
        {
            config.HttpClientFactory = new InsecureHttpClientFactory();
        }

        var accessKey = metadata.Get("accessKey");
        var secretKey = metadata.Get("secretKey");
        if ((accessKey is null) != (secretKey is null))
        {
            throw metadata.Error(accessKey is null ? "accessKey" : "secretKey", "accessKey and secretKey must be set together");
        }
        var sessionToken = metadata.Get("sessionToken");
        try
        {
            _client = (accessKey, secretKey) switch
            {
                (string id, string secret) when sessionToken is not null => new AmazonS3Client(new SessionAWSCredentials(id, secret, sessionToken), config),
                (string id, string secret) => new AmazonS3Client(new BasicAWSCredentials(id, secret), config),
                // No keys: the AWS SDK's usual chain (environment, profile, instance role), as in daprd.
                _ => new AmazonS3Client(config),
            };
        }
        catch (AmazonClientException ex)
        {
            // Without region or endpoint the SDK looks for AWS_REGION or a profile, and fails here when neither exists.
            throw metadata.Error("region", $"{ex.Message}; set region or endpoint");
        }
    }

    public IReadOnlyList<string> Operations { get; } = [Create, Get, Delete, List, Presign];

    /// <summary>
    /// Checks that the bucket answers, so a wrong endpoint, key or bucket shows at start (daprd finds out at the
    /// first call). A failure is a <see cref="BindingException"/>, which <c>ignoreErrors</c> can skip.
    /// </summary>
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _bucket }, cancellationToken);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            var reason = ex is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } ? "no such bucket" : ex.Message;
            throw new BindingException($"cannot access bucket '{_bucket}': {reason}", ex);
        }
    }

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return request.Operation switch
            {
                Create => await CreateAsync(request, cancellationToken),
                Get => await GetAsync(request, cancellationToken),
                Delete => await DeleteAsync(request, cancellationToken),
                List => await ListAsync(request, cancellationToken),
                Presign => await PresignAsync(request),
                _ => throw new BindingException($"s3 binding error: unsupported operation {request.Operation}"),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or AmazonClientException)
        {
            // Transport and client-side failures (unreachable endpoint, no credentials); service errors are mapped per operation.
            throw new BindingException($"s3 binding error: {request.Operation} failed: {ex.Message}", ex);
        }
    }

    private async Task<BindingResponse> CreateAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var metadata = request.Metadata;
        var key = Value(metadata, KeyKey) ?? Guid.NewGuid().ToString();
        var put = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            UseChunkEncoding = false,
        };
        if (Value(metadata, ContentTypeKey)?.Trim() is { Length: > 0 } contentType)
        {
            put.ContentType = contentType;
        }
        if (metadata.TryGetValue(TagsKey, out var tags))
        {
            put.TagSet = ParseTags(tags);
        }
        if ((Value(metadata, StorageClassKey) ?? _storageClass) is { } storageClass)
        {
            put.StorageClass = S3StorageClass.FindValue(storageClass);
        }

        byte[] body;
        if (Value(metadata, FilePathKey) is { } filePath)
        {
            try
            {
                body = await File.ReadAllBytesAsync(Path.Combine(_workingDirectory, filePath), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new BindingException($"s3 binding error: file read error: {ex.Message}", ex);
            }
        }
        else
        {
            body = GoCompat.UnquoteJson(request.Data);
        }
        if (Flag(metadata, DecodeBase64Key, _decodeBase64))
        {
            body = GoCompat.TryDecodeBase64(body, out var decoded, out var error)
                ? decoded
                : throw new BindingException($"s3 binding error: uploading failed: {error}");
        }
        put.InputStream = new MemoryStream(body, writable: false);

        PutObjectResponse response;
        try
        {
            response = await _client.PutObjectAsync(put, cancellationToken);
        }
        catch (AmazonServiceException ex)
        {
            throw new BindingException($"s3 binding error: uploading failed: {ex.Message}", ex);
        }
        var presignUrl = Value(metadata, PresignTtlKey) is { } ttl ? await PresignUrlAsync(key, ttl) : null;
        var data = GoCompat.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("location", Location(key));
            w.WriteString("versionID", response.VersionId);
            if (presignUrl is not null)
            {
                w.WriteString("presignURL", presignUrl);
            }
            w.WriteEndObject();
        });
        return new BindingResponse(data, new Dictionary<string, string> { [KeyKey] = key });
    }

    private async Task<BindingResponse> GetAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var key = RequiredKey(request);
        byte[] bytes;
        try
        {
            using var response = await _client.GetObjectAsync(_bucket, key, cancellationToken);
            using var buffer = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
            bytes = buffer.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchKey")
        {
            throw new BindingException("object not found", ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new BindingException($"s3 binding error: error downloading S3 object: {ex.Message}", ex);
        }
        var data = Flag(request.Metadata, EncodeBase64Key, _encodeBase64) ? Encoding.ASCII.GetBytes(Convert.ToBase64String(bytes)) : bytes;
        return new BindingResponse(data, new Dictionary<string, string>());
    }

    private async Task<BindingResponse> DeleteAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var key = RequiredKey(request);
        try
        {
            await _client.DeleteObjectAsync(_bucket, key, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchKey")
        {
            throw new BindingException("object not found", ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new BindingException($"s3 binding error: delete operation failed: {ex.Message}", ex);
        }
        return BindingResponse.Empty();
    }

    private async Task<BindingResponse> ListAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var list = new ListObjectsRequest { BucketName = _bucket, MaxKeys = DefaultMaxResults };
        if (request.Data.Length > 0)
        {
            ReadListPayload(request.Data, list);
        }
        ListObjectsResponse response;
        try
        {
            response = await _client.ListObjectsAsync(list, cancellationToken);
        }
        catch (AmazonServiceException ex)
        {
            throw new BindingException($"s3 binding error: list operation failed: {ex.Message}", ex);
        }
        return new BindingResponse(GoCompat.Json(w => S3ListJson.Write(w, response)), new Dictionary<string, string>());
    }

    /// <summary>
    /// The list request body {"maxResults","prefix","marker","delimiter"}, read like Go's encoding/json does
    /// into a struct: names match case-insensitively, unknown fields are ignored, wrong types are errors.
    /// </summary>
    private static void ReadListPayload(byte[] data, ListObjectsRequest list)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Null)
            {
                return;
            }
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BindingException($"s3 binding (List Operation) - unable to parse Data property - expected a JSON object, found {root.ValueKind.ToString().ToLowerInvariant()}");
            }
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name.ToLowerInvariant())
                {
                    case "maxresults":
                        var max = property.Value.ValueKind == JsonValueKind.Null ? 0 : property.Value.GetInt32();
                        list.MaxKeys = max < 1 ? DefaultMaxResults : max;
                        break;
                    case "prefix":
                        list.Prefix = NonEmpty(property.Value.GetString());
                        break;
                    case "marker":
                        list.Marker = NonEmpty(property.Value.GetString());
                        break;
                    case "delimiter":
                        list.Delimiter = NonEmpty(property.Value.GetString());
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new BindingException($"s3 binding (List Operation) - unable to parse Data property - {ex.Message}", ex);
        }
    }

    private async Task<BindingResponse> PresignAsync(BindingRequest request)
    {
        var key = RequiredKey(request);
        var ttl = Value(request.Metadata, PresignTtlKey) ?? throw new BindingException($"s3 binding error: required metadata '{PresignTtlKey}' missing");
        var url = await PresignUrlAsync(key, ttl);
        return new BindingResponse(
            GoCompat.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("presignURL", url);
                w.WriteEndObject();
            }),
            new Dictionary<string, string>());
    }

    /// <summary>A GET URL for the object, valid for the Go duration <paramref name="ttl"/>.</summary>
    private async Task<string> PresignUrlAsync(string key, string ttl)
    {
        if (!GoDuration.TryParse(ttl, out var lifetime) || lifetime <= TimeSpan.Zero)
        {
            throw new BindingException($"s3 binding error: cannot parse duration {ttl}");
        }
        try
        {
            return await _client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
            {
                BucketName = _bucket,
                Key = key,
                Verb = HttpVerb.GET,
                Expires = _time.GetUtcNow().UtcDateTime + lifetime,
                Protocol = _client.Config.UseHttp || (_endpoint?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ?? false)
                    ? Protocol.HTTP
                    : Protocol.HTTPS,
            });
        }
        catch (Exception ex) when (ex is AmazonClientException or ArgumentException)
        {
            throw new BindingException($"s3 binding error: failed to presign URL: {ex.Message}", ex);
        }
    }

    /// <summary>daprd's fallback location: the configured endpoint, else the AWS path- or host-style URL.</summary>
    private string Location(string key)
    {
        if (_endpoint is not null)
        {
            return $"{_endpoint.TrimEnd('/')}/{_bucket}/{key}";
        }
        return _forcePathStyle ? $"https://s3.amazonaws.com/{_bucket}/{key}" : $"https://{_bucket}.s3.amazonaws.com/{key}";
    }

    /// <summary>"k=v,k2=v2" into tags; every entry needs a non-empty key and value.</summary>
    private static List<Tag> ParseTags(string raw) =>
        [.. raw.Split(',').Select(entry =>
        {
            var pair = entry.Trim().Split('=', 2);
            return pair.Length == 2 && pair[0].Trim().Length > 0 && pair[1].Trim().Length > 0
                ? new Tag { Key = pair[0].Trim(), Value = pair[1].Trim() }
                : throw new BindingException($"s3 binding error: parsing tags failed: invalid tag format: '{entry}' (expected key=value)");
        })];

    private static string RequiredKey(BindingRequest request) =>
        Value(request.Metadata, KeyKey) ?? throw new BindingException($"s3 binding error: required metadata '{KeyKey}' missing");

    private static string? Value(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) ? NonEmpty(value) : null;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A per-request boolean override, else the component's setting.</summary>
    private static bool Flag(IReadOnlyDictionary<string, string> metadata, string key, bool componentValue) =>
        Value(metadata, key) is { } raw ? GoCompat.IsTruthy(raw) : componentValue;

    private static bool HasScheme(string endpoint) =>
        endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>For <c>insecureSSL</c>: accepts any server certificate (self-signed test endpoints).</summary>
    private sealed class InsecureHttpClientFactory : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
    }
}
