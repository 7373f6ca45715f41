namespace Ovasabi.Testing.Sidecars;

/// <summary>A folder under the system temp directory, deleted on Dispose.</summary>
public abstract class TempFolder : IDisposable
{
    protected TempFolder(string prefix)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Directory { get; }

    public string PathOf(string fileName) => Path.Combine(Directory, fileName);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A sidecar or log writer still writing into the folder must not fail the test.
        }
        GC.SuppressFinalize(this);
    }
}
