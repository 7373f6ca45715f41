using System.Text;
using System.Text.Json;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Bindings;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

public sealed class LocalStorageBindingTests : IAsyncLifetime
{
    private static readonly byte[] EveryByte = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];

    private readonly TempDirectory _workingDirectory = new();
    private LocalStorageBinding _binding = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Root => Path.Combine(_workingDirectory.Path, "data", "files");

    public async ValueTask InitializeAsync() => _binding = await StartAsync("data/files");

    public async ValueTask DisposeAsync()
    {
        await _binding.DisposeAsync();
        _workingDirectory.Dispose();
    }

    [Fact]
    public void Init_CreatesRootPathRelativeToTheWorkingDirectory()
    {
        Assert.True(Directory.Exists(Root));
    }

    [Fact]
    public async Task CreateGetListDelete_WorkOnFilesUnderRootPath()
    {
        var created = await _binding.InvokeAsync(Request("create", EveryByte, ("fileName", "a/b/c.bin")), Ct);
        await _binding.InvokeAsync(Request("create", "one"u8.ToArray(), ("fileName", "a/one.txt")), Ct);

        var fetched = await _binding.InvokeAsync(Request("get", null, ("fileName", "a/b/c.bin")), Ct);
        var listed = await _binding.InvokeAsync(Request("list", null, ("fileName", "a")), Ct);
        var everything = await _binding.InvokeAsync(Request("list"), Ct);
        await _binding.InvokeAsync(Request("delete", null, ("fileName", "a/b/c.bin")), Ct);

        Assert.Equal("""{"fileName":"a/b/c.bin"}""", Encoding.UTF8.GetString(created.Data));
        Assert.Equal(EveryByte, fetched.Data);
        string[] expected = [Path.Combine(Root, "a/b/c.bin"), Path.Combine(Root, "a/one.txt")];
        Assert.Equal(expected, JsonSerializer.Deserialize<string[]>(listed.Data));
        Assert.Equal(expected, JsonSerializer.Deserialize<string[]>(everything.Data));
        Assert.False(File.Exists(Path.Combine(Root, "a/b/c.bin")));
        Assert.True(File.Exists(Path.Combine(Root, "a/one.txt")));
    }

    [Fact]
    public async Task Create_WithoutFileName_UsesAGeneratedUuid()
    {
        var created = await _binding.InvokeAsync(Request("create", "x"u8.ToArray()), Ct);

        using var body = JsonDocument.Parse(created.Data);
        var name = body.RootElement.GetProperty("fileName").GetString()!;
        Assert.True(Guid.TryParse(name, out _), name);
        Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(Root, name), Ct));
    }

    [Theory]
    [InlineData("\"aGVsbG8=\"", "hello")]
    [InlineData("aGVsbG8=", "hello")]
    [InlineData("\"hello world\"", "hello world")]
    [InlineData("\"tab\\there\\x41\"", "tab\there\u0041")]
    [InlineData("`raw \\n`", "raw \\n")]
    [InlineData("'x'", "x")]
    [InlineData("\"unterminated", "\"unterminated")]
    [InlineData("{\"json\": true}", "{\"json\": true}")]
    public async Task Create_UnquotesGoStringsThenDecodesValidBase64(string body, string stored)
    {
        await _binding.InvokeAsync(Request("create", Encoding.UTF8.GetBytes(body), ("fileName", "quirk")), Ct);

        Assert.Equal(stored, await File.ReadAllTextAsync(Path.Combine(Root, "quirk"), Ct));
    }

    [Fact]
    public async Task Create_PlainTextThatHappensToBeBase64_IsStoredDecoded_AsInDaprd()
    {
        await _binding.InvokeAsync(Request("create", "test"u8.ToArray(), ("fileName", "surprise")), Ct);

        Assert.Equal(Convert.FromBase64String("test"), await File.ReadAllBytesAsync(Path.Combine(Root, "surprise"), Ct));
    }

    [Fact]
    public async Task DotDotInFileName_CannotEscapeRootPath()
    {
        var created = await _binding.InvokeAsync(Request("create", "x"u8.ToArray(), ("fileName", "../../../../escaped.txt")), Ct);
        var error = await Assert.ThrowsAsync<BindingException>(
            () => _binding.InvokeAsync(Request("get", null, ("fileName", "../../../../../../etc/hostname")), Ct));

        Assert.Equal("""{"fileName":"escaped.txt"}""", Encoding.UTF8.GetString(created.Data));
        Assert.True(File.Exists(Path.Combine(Root, "escaped.txt")));
        Assert.Empty(Directory.GetFiles(_workingDirectory.Path, "escaped.txt", SearchOption.TopDirectoryOnly));
        Assert.Equal($"file not found: {Path.Combine(Root, "etc/hostname")}", error.Message);
    }

    [Fact]
    public async Task SymlinkInsideRootPath_IsResolvedWithinRootPath()
    {
        var outside = Path.Combine(_workingDirectory.Path, "outside");
        Directory.CreateDirectory(outside);
        File.CreateSymbolicLink(Path.Combine(Root, "link"), outside);

        await _binding.InvokeAsync(Request("create", "x"u8.ToArray(), ("fileName", "link/planted.txt")), Ct);

        Assert.Empty(Directory.GetFiles(outside));
        Assert.True(File.Exists(Path.Combine(Root, outside.TrimStart('/'), "planted.txt")));
    }

    [Fact]
    public async Task Get_MissingFile_FailsFileNotFoundWithTheAbsolutePath()
    {
        var error = await Assert.ThrowsAsync<BindingException>(
            () => _binding.InvokeAsync(Request("get", null, ("fileName", "nope.txt")), Ct));

        Assert.Equal($"file not found: {Path.Combine(Root, "nope.txt")}", error.Message);
    }

    [Fact]
    public async Task Delete_MissingFile_Fails()
    {
        await Assert.ThrowsAsync<BindingException>(() => _binding.InvokeAsync(Request("delete", null, ("fileName", "nope.txt")), Ct));
    }

    [Fact]
    public async Task List_EmptyDirectory_ReturnsJsonNull_AndAFileCannotBeListed()
    {
        await _binding.InvokeAsync(Request("create", "x"u8.ToArray(), ("fileName", "file.txt")), Ct);
        Directory.CreateDirectory(Path.Combine(Root, "empty"));

        var empty = await _binding.InvokeAsync(Request("list", null, ("fileName", "empty")), Ct);
        var error = await Assert.ThrowsAsync<BindingException>(() => _binding.InvokeAsync(Request("list", null, ("fileName", "file.txt")), Ct));

        Assert.Equal("null", Encoding.UTF8.GetString(empty.Data));
        Assert.Contains("not a directory", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/proc")]
    [InlineData("/sys/kernel")]
    [InlineData("/var/run/secrets/kubernetes.io")]
    [InlineData("../../../../../../../../boot")]
    public void Constructor_DisallowedRootPath_IsRefused(string rootPath)
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new LocalStorageBinding(Definition("bindings.localstorage", ("rootPath", rootPath)), Context(_workingDirectory.Path)));

        Assert.Equal("rootPath", error.Field);
        Assert.Contains("disallowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WithoutRootPath_IsRefused()
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new LocalStorageBinding(Definition("bindings.localstorage"), Context(_workingDirectory.Path)));

        Assert.Equal("rootPath", error.Field);
    }

    [Fact]
    public async Task Init_RootPathThatIsAFile_Fails()
    {
        var file = Path.Combine(_workingDirectory.Path, "plain-file");
        await File.WriteAllTextAsync(file, "x", Ct);
        await using var binding = new LocalStorageBinding(Definition("bindings.localstorage", ("rootPath", file)), Context(_workingDirectory.Path));

        var error = await Assert.ThrowsAsync<BindingException>(() => binding.InitAsync(Ct));

        Assert.Contains("is a file, not a directory", error.Message, StringComparison.Ordinal);
    }

    private async Task<LocalStorageBinding> StartAsync(string rootPath)
    {
        var binding = new LocalStorageBinding(Definition("bindings.localstorage", ("rootPath", rootPath)), Context(_workingDirectory.Path));
        await binding.InitAsync(Ct);
        return binding;
    }
}
