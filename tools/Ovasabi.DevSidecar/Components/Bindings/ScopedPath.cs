namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// Joins an untrusted relative path under a root as if the root were "/": <c>..</c> stops at the root and
/// symbolic links met on the way are resolved inside the root, so the result never leaves it (the semantics of
/// the securejoin package daprd uses). Components that do not exist yet are taken literally.
/// </summary>
internal static class ScopedPath
{
    private const int MaxLinks = 255;

    /// <exception cref="IOException">more than 255 symbolic links on the way</exception>
    public static string Join(string root, string unsafePath)
    {
        var pending = new LinkedList<string>(Split(unsafePath));
        var resolved = new List<string>();
        var links = 0;
        while (pending.First is { } node)
        {
            pending.RemoveFirst();
            var part = node.Value;
            if (part is "" or ".")
            {
                continue;
            }
            if (part == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }
                continue;
            }
            var candidate = Path.Join(root, string.Join('/', resolved), part);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                resolved.Add(part);
                continue;
            }
            if (++links > MaxLinks)
            {
                throw new IOException($"too many symbolic links under {root}");
            }
            if (Path.IsPathRooted(target))
            {
                // An absolute target means the root, not the host's "/".
                resolved.Clear();
            }
            foreach (var targetPart in Split(target).Reverse())
            {
                pending.AddFirst(targetPart);
            }
        }
        return resolved.Count == 0 ? root : Path.Join(root, string.Join('/', resolved));
    }

    /// <summary>The real location of <paramref name="path"/>: every existing symbolic link on it resolved.</summary>
    public static string Resolve(string path) => Join("/", Path.GetFullPath(path));

    private static string[] Split(string path) => path.Split('/');
}
