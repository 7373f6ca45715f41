namespace Ovasabi.Testing;

/// <summary>Finds the checkout's root: the first directory upward that contains the solution file.</summary>
public static class RepositoryRoot
{
    public const string MarkerFileName = "ovasabi-dapr.sln";

    /// <summary>Searches upward from the test assembly's directory.</summary>
    public static string? Find() => Find(AppContext.BaseDirectory);

    public static string? Find(string startDirectory)
    {
        for (var directory = new DirectoryInfo(startDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, MarkerFileName)))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
