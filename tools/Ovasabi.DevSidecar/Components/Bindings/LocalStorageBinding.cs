namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// <c>bindings.localstorage</c>: files under <c>rootPath</c>, addressed by the request's <c>fileName</c>
/// (joined so that it cannot leave the root), with daprd's create/get/delete/list semantics.
/// </summary>
internal sealed class LocalStorageBinding : IOutputBinding
{
    public const string Create = "create";
    public const string Get = "get";
    public const string Delete = "delete";
    public const string List = "list";

    private const string FileNameKey = "fileName";

    /// <summary>
    /// Locations a root may not be in or under, also in their resolved form: /var/run is usually a link to /run,
    /// which daprd's literal comparison misses.
    /// </summary>
    private static readonly string[] DisallowedRoots =
        [.. new[] { "/proc", "/sys", "/boot", "/var/run/secrets" }.SelectMany(p => new[] { p, ScopedPath.Resolve(p) }).Distinct()];

    private readonly string _root;

    public LocalStorageBinding(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        var configured = metadata.Required("rootPath");
        try
        {
            _root = ScopedPath.Resolve(Path.Combine(context.WorkingDirectory, configured));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw metadata.Error("rootPath", ex.Message);
        }
        if (DisallowedRoots.Any(d => _root == d || _root.StartsWith(d + "/", StringComparison.Ordinal)))
        {
            throw metadata.Error("rootPath", $"'{_root}' is a disallowed location");
        }
    }

    public IReadOnlyList<string> Operations { get; } = [Create, Get, List, Delete];

    /// <summary>Creates the root directory, as daprd does at start; a failure is one <c>ignoreErrors</c> can skip.</summary>
    public Task InitAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(_root))
        {
            throw new BindingException($"rootPath {_root} is a file, not a directory");
        }
        try
        {
            Directory.CreateDirectory(_root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BindingException($"unable to create the rootPath directory {_root}: {ex.Message}", ex);
        }
        return Task.CompletedTask;
    }

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var fileName = request.Metadata.GetValueOrDefault(FileNameKey) ?? "";
        if (fileName.Length == 0 && request.Operation == Create)
        {
            fileName = Guid.NewGuid().ToString();
        }
        string path;
        try
        {
            path = ScopedPath.Join(_root, fileName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BindingException($"error getting absolute path for file {fileName}: {ex.Message}", ex);
        }
        try
        {
            return request.Operation switch
            {
                Create => await CreateAsync(path, request.Data, cancellationToken),
                Get => await GetAsync(path, cancellationToken),
                Delete => DeletePath(path),
                List => ListFiles(path),
                _ => throw new BindingException($"unsupported operation {request.Operation}"),
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BindingException($"error in {request.Operation} of {path}: {ex.Message}", ex);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<BindingResponse> CreateAsync(string path, byte[] data, CancellationToken cancellationToken)
    {
        // daprd's quirk, kept on purpose: a quoted Go string is unquoted, then anything that happens to be valid
        // base64 is decoded (so a plain-text body like "test" is stored as 3 decoded bytes).
        if (GoCompat.TryUnquote(data, out var unquoted))
        {
            data = unquoted;
        }
        if (GoCompat.TryDecodeBase64(data, out var decoded, out _))
        {
            data = decoded;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, data, cancellationToken);
        var relative = Path.GetRelativePath(_root, path);
        return new BindingResponse(
            GoCompat.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("fileName", relative);
                w.WriteEndObject();
            }),
            new Dictionary<string, string>());
    }

    private static async Task<BindingResponse> GetAsync(string path, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            throw new BindingException($"error reading file {path}: is a directory");
        }
        if (!File.Exists(path))
        {
            throw new BindingException($"file not found: {path}");
        }
        return new BindingResponse(await File.ReadAllBytesAsync(path, cancellationToken), new Dictionary<string, string>());
    }

    /// <summary>Removes a file or an empty directory, like Go's os.Remove (the path has no links left to follow).</summary>
    private static BindingResponse DeletePath(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path);
        }
        else if (File.Exists(path))
        {
            File.Delete(path);
        }
        else
        {
            throw new BindingException($"error deleting file {path}: no such file or directory");
        }
        return BindingResponse.Empty();
    }

    /// <summary>
    /// Absolute paths of every file below <paramref name="path"/>, depth-first in name order like Go's
    /// filepath.Walk; links are listed, not followed. No files at all gives JSON null, as daprd's nil slice does.
    /// </summary>
    private static BindingResponse ListFiles(string path)
    {
        if (!Directory.Exists(path))
        {
            throw new BindingException(File.Exists(path)
                ? $"unable to list files as the file specified is not a directory: {path}"
                : $"error getting stats for path {path}: no such file or directory");
        }
        var files = new List<string>();
        Walk(path, files);
        return new BindingResponse(
            GoCompat.Json(w =>
            {
                if (files.Count == 0)
                {
                    w.WriteNullValue();
                    return;
                }
                w.WriteStartArray();
                files.ForEach(w.WriteStringValue);
                w.WriteEndArray();
            }),
            new Dictionary<string, string>());
    }

    private static void Walk(string directory, List<string> files)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry is DirectoryInfo && entry.LinkTarget is null)
            {
                Walk(entry.FullName, files);
            }
            else
            {
                files.Add(entry.FullName);
            }
        }
    }
}
