using System.Text.RegularExpressions;
using Amazon.S3.Model;

namespace Ovasabi.Testing.Tests;

public sealed partial class S3ServerTests(S3Server s3)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateBucketAsync_gives_unique_lower_case_dns_valid_names()
    {
        var first = await s3.CreateBucketAsync("My_Assets.Test", Cancellation);
        var second = await s3.CreateBucketAsync("My_Assets.Test", Cancellation);

        Assert.NotEqual(first, second);
        Assert.Matches(DnsBucketName(), first);
        Assert.StartsWith("my-assets-test-", first);
        using var client = s3.CreateClient();
        var buckets = (await client.ListBucketsAsync(Cancellation)).Buckets.Select(bucket => bucket.BucketName);
        Assert.Contains(first, buckets);
    }

    [Fact]
    public async Task Put_then_get_is_byte_exact_and_the_object_is_listed()
    {
        var bucket = await s3.CreateBucketAsync("roundtrip", Cancellation);
        var content = new byte[300_017];
        new Random(17).NextBytes(content);
        using var client = s3.CreateClient();

        await S3Server.PutObjectAsync(client, bucket, "models/a.glb", content, Cancellation);
        using var got = await client.GetObjectAsync(bucket, "models/a.glb", Cancellation);
        using var read = new MemoryStream();
        await got.ResponseStream.CopyToAsync(read, Cancellation);
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, Cancellation);

        Assert.Equal(content, read.ToArray());
        var only = Assert.Single(listed.S3Objects);
        Assert.Equal("models/a.glb", only.Key);
        Assert.Equal(content.Length, only.Size);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex DnsBucketName();
}
