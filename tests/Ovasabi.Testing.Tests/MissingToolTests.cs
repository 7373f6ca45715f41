namespace Ovasabi.Testing.Tests;

public sealed class MissingToolTests
{
    public static TheoryData<string, string> Servers => new()
    {
        { "redis", "redis-server not found: run `make deps`" },
        { "postgres", "initdb not found: run `make deps`" },
        { "s3", "s3rver not found: run `make deps`" },
        { "s3 without node", "node not found: run `make deps`" },
        { "maildev", "maildev not found: run `make deps`" },
    };

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_missing_binary_fails_fast_and_says_to_run_make_deps(string server, string expectedMessage)
    {
        var nowhere = Directory.CreateTempSubdirectory("ovasabi-no-tools-").FullName;
        try
        {
            // s3rver found through OVASABI_S3RVER, node nowhere: the node lookup is the one that fails.
            var realS3rver = server == "s3 without node" ? ToolLocator.Default.S3rver() : null;
            var tools = new ToolLocator([nowhere], nowhere, nowhere, name => name == ToolLocator.S3rverVariable ? realS3rver : null);
            await using ServerFixture fixture = server switch
            {
                "redis" => new RedisServer(ServerBackend.Process, tools),
                "postgres" => new PostgresServer(ServerBackend.Process, tools),
                "maildev" => new MaildevServer(tools),
                _ => new S3Server(tools),
            };

            var error = await Assert.ThrowsAsync<ToolNotFoundException>(fixture.InitializeAsync().AsTask);

            Assert.Equal(expectedMessage, error.Message);
        }
        finally
        {
            Directory.Delete(nowhere, recursive: true);
        }
    }
}
