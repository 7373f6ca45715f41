using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Secrets;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Secrets;

public sealed class LocalFileSecretStoreTests : IDisposable
{
    private const string Secrets = """
        {
          "api-key": "k-123",
          "db": { "password": "p@ss", "port": 5432, "replica": { "host": "r1" } },
          "hosts": ["a", "b"],
          "flag": true,
          "none": null
        }
        """;

    private readonly TempDirectory _workingDirectory = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _workingDirectory.Dispose();

    [Fact]
    public async Task SingleValued_EveryFlattenedKeyIsASecretHoldingItself()
    {
        var store = await StartAsync(Secrets);

        var all = await store.GetBulkSecretAsync(Ct);

        Assert.Equal(
            ["api-key", "db:password", "db:port", "db:replica:host", "flag", "hosts:0", "hosts:1", "none"],
            all.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new Dictionary<string, string> { ["db:password"] = "p@ss" }, await store.GetSecretAsync("db:password", Ct));
        Assert.Equal(new Dictionary<string, string> { ["db:port"] = "5432" }, all["db:port"]);
        Assert.Equal(new Dictionary<string, string> { ["hosts:1"] = "b" }, all["hosts:1"]);
        Assert.Equal("true", all["flag"]["flag"]);
        Assert.Equal("", all["none"]["none"]);
    }

    [Fact]
    public async Task SingleValued_CustomSeparator_JoinsNestedKeys()
    {
        var store = await StartAsync(Secrets, ("nestedSeparator", "."));

        Assert.Equal(new Dictionary<string, string> { ["db.replica.host"] = "r1" }, await store.GetSecretAsync("db.replica.host", Ct));
        Assert.Null(await store.GetSecretAsync("db:replica:host", Ct));
    }

    [Fact]
    public async Task MultiValued_TopLevelKeysAreSecretsWithTheirFlattenedEntries()
    {
        var store = await StartAsync(Secrets, ("multiValued", "true"));

        var all = await store.GetBulkSecretAsync(Ct);

        Assert.Equal(["api-key", "db"], all.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            new Dictionary<string, string> { ["password"] = "p@ss", ["port"] = "5432", ["replica:host"] = "r1" },
            await store.GetSecretAsync("db", Ct));
        Assert.Equal(new Dictionary<string, string> { ["api-key"] = "k-123" }, all["api-key"]);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("true")]
    public async Task MissingSecret_IsNull(string multiValued)
    {
        var store = await StartAsync(Secrets, ("multiValued", multiValued));

        Assert.Null(await store.GetSecretAsync("no-such-secret", Ct));
    }

    [Fact]
    public async Task SecretsFile_IsRelativeToTheWorkingDirectory()
    {
        Directory.CreateDirectory(Path.Combine(_workingDirectory.Path, "config"));
        await File.WriteAllTextAsync(Path.Combine(_workingDirectory.Path, "config", "s.json"), """{"x":"y"}""", Ct);
        await using var store = new LocalFileSecretStore(Definition("secretstores.local.file", ("secretsFile", "config/s.json")), Context(_workingDirectory.Path));

        await store.InitAsync(Ct);

        Assert.Equal("y", (await store.GetSecretAsync("x", Ct))!["x"]);
    }

    [Fact]
    public async Task MissingFile_FailsInitNamingTheFile()
    {
        await using var store = new LocalFileSecretStore(Definition("secretstores.local.file", ("secretsFile", "missing.json")), Context(_workingDirectory.Path));

        var error = await Assert.ThrowsAsync<IOException>(() => store.InitAsync(Ct));

        Assert.Contains(Path.Combine(_workingDirectory.Path, "missing.json"), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"a:b": "1", "a": {"b": "2"}}""")]
    public async Task MalformedFile_FailsInit(string content)
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => StartAsync(content));

        Assert.StartsWith("secretsFile ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WithoutSecretsFile_IsRefused()
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new LocalFileSecretStore(Definition("secretstores.local.file"), Context(_workingDirectory.Path)));

        Assert.Equal("secretsFile", error.Field);
    }

    private async Task<LocalFileSecretStore> StartAsync(string json, params (string Name, string Value)[] metadata)
    {
        var file = Path.Combine(_workingDirectory.Path, Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, json, Ct);
        var store = new LocalFileSecretStore(Definition("secretstores.local.file", [("secretsFile", file), .. metadata]), Context(_workingDirectory.Path));
        await store.InitAsync(Ct);
        return store;
    }
}
