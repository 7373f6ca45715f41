namespace Ovasabi.Testing;

/// <summary>What to run: executable, arguments, and optionally working directory and environment changes.</summary>
/// <param name="FileName">Absolute path, or a name looked up on PATH.</param>
public sealed record ProcessCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>Used in log and error messages; stays the same when the command is wrapped (see <see cref="AsUser"/>).</summary>
    public string Name { get; init; } = Path.GetFileName(FileName);

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set in the child's environment; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>The same command run as another OS user through runuser (the caller must be root).</summary>
    public ProcessCommand AsUser(string user) =>
        this with { FileName = "runuser", Arguments = ["-u", user, "--", FileName, .. Arguments] };
}
