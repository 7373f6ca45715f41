using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ovasabi.Testing;

/// <summary>
/// An S3-compatible server (s3rver, run by node) for a test run. Every object write against it must set
/// UseChunkEncoding = false: see <see cref="PutObjectAsync"/>.
/// </summary>
public sealed class S3Server : ServerFixture
{
    private readonly ToolLocator tools;

    public S3Server()
        : this(ToolLocator.Default)
    {
    }

    internal S3Server(ToolLocator tools)
    {
        this.tools = tools;
    }

    public string ServiceUrl => $"http://{Host}:{Port}";

    public string AccessKey => "S3RVER";

    public string SecretKey => "S3RVER";

    public string Region => "us-east-1";

    /// <summary>A client for this server (path-style addressing, signed for <see cref="Region"/>); the caller disposes it.</summary>
    public AmazonS3Client CreateClient() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config { ServiceURL = ServiceUrl, ForcePathStyle = true, AuthenticationRegion = Region });

    /// <summary>Creates an empty bucket with a unique, lower-case, DNS-valid name and returns the name.</summary>
    public async Task<string> CreateBucketAsync(string namePrefix, CancellationToken cancellationToken = default)
    {
        var name = UniqueName.Create(namePrefix);
        using var client = CreateClient();
        await client.PutBucketAsync(name, cancellationToken);
        return name;
    }

    /// <summary>
    /// Writes an object with UseChunkEncoding = false. AWSSDK.S3 4.x otherwise sends an aws-chunked body with a
    /// trailing checksum, which s3rver stores verbatim: the object comes back silently corrupted (build-environment.md §3).
    /// Set the same flag on any other PutObjectRequest or UploadPartRequest sent to s3rver.
    /// </summary>
    public static async Task<PutObjectResponse> PutObjectAsync(
        IAmazonS3 client, string bucket, string key, byte[] content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var body = new MemoryStream(content, writable: false);
        return await client.PutObjectAsync(
            new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body, UseChunkEncoding = false },
            cancellationToken);
    }

    private protected override async Task<IServerInstance> LaunchAsync(CancellationToken cancellationToken)
    {
        var s3rver = tools.S3rver();
        var node = tools.Node();
        return await LocalServer.LaunchAsync("s3", (directory, port, _) => Task.FromResult(new LocalServerDefinition(
            new ProcessCommand(node, [s3rver, "-d", directory, "-a", Loopback.Address, "-p", $"{port}", "--silent"]) { Name = "s3rver" },
            ready => Loopback.IsListeningAsync(port, ready))),
            cancellationToken);
    }
}
