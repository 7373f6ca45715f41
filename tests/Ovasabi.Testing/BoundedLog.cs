namespace Ovasabi.Testing;

/// <summary>The last lines a process wrote to stdout and stderr, interleaved as they arrived.</summary>
internal sealed class BoundedLog(int capacity)
{
    private readonly Queue<(string Line, bool IsError)> lines = new(capacity);
    private readonly Lock gate = new();
    private int dropped;

    public void Add(string line, bool isError)
    {
        lock (gate)
        {
            if (lines.Count == capacity)
            {
                lines.Dequeue();
                dropped++;
            }

            lines.Enqueue((line, isError));
        }
    }

    public string StandardOutput
    {
        get
        {
            lock (gate)
            {
                return string.Join('\n', lines.Where(entry => !entry.IsError).Select(entry => entry.Line));
            }
        }
    }

    public override string ToString()
    {
        lock (gate)
        {
            var text = string.Join('\n', lines.Select(entry => entry.Line));
            return dropped == 0 ? text : $"[{dropped} earlier lines dropped]\n{text}";
        }
    }
}
