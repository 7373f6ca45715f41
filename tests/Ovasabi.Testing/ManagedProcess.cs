using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;

namespace Ovasabi.Testing;

/// <summary>
/// A child process whose output is kept in a bounded in-memory log (quoted in every failure message)
/// and whose whole process tree is killed on dispose, or when the test host exits with it still running.
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    public const int DefaultLogLines = 500;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);
    private static readonly ConcurrentDictionary<ManagedProcess, byte> Running = new();

    private readonly Process process;
    private readonly BoundedLog log;
    private int disposed;

    static ManagedProcess()
    {
        // A test run that ends without disposing its fixtures (crash, Ctrl+C) must not leave servers holding ports.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var child in Running.Keys)
            {
                child.KillTree();
            }
        };
    }

    private ManagedProcess(string name, Process process, BoundedLog log)
    {
        Name = name;
        this.process = process;
        this.log = log;
    }

    public string Name { get; }

    public int Id => process.Id;

    /// <summary>The CPU time (user + system) the process has used so far; what it had used when it exited afterwards.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>The exit code; only meaningful once <see cref="HasExited"/> is true.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>The last lines of stdout and stderr.</summary>
    public string Output => log.ToString();

    public static ManagedProcess Start(ProcessCommand command, int logLines = DefaultLogLines)
    {
        ArgumentNullException.ThrowIfNull(command);
        var startInfo = new ProcessStartInfo(command.FileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = command.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in command.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in command.Environment)
        {
            startInfo.Environment[name] = value;
        }

        var log = new BoundedLog(logLines);
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => AddLine(log, e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => AddLine(log, e.Data, isError: true);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"{command.Name} could not be started ({command.FileName}): {e.Message}", e);
        }

        var managed = new ManagedProcess(command.Name, process, log);
        Running.TryAdd(managed, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return managed;
    }

    /// <summary>Runs a command to completion and returns its stdout (the last lines of it); a non-zero exit or a timeout throws with the output.</summary>
    public static async Task<string> RunAsync(ProcessCommand command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await using var running = Start(command);
        await running.WaitForExitAsync(timeout, cancellationToken);
        if (running.process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{running.Name} failed with exit code {running.process.ExitCode}.{running.DescribeOutput()}");
        }

        return running.log.StandardOutput;
    }

    /// <summary>Polls <paramref name="isReady"/> until it answers true; throws with the output if the process exits first or time runs out.</summary>
    public async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> isReady, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(isReady);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    await DrainOutputAsync();
                    throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} before it was ready.{DescribeOutput()}");
                }

                if (await isReady(deadline.Token))
                {
                    return;
                }

                await Task.Delay(PollInterval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0.#} s.{DescribeOutput()}");
        }
    }

    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0.#} s.{DescribeOutput()}");
        }
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM, so it runs its shutdown path) and waits up to <paramref name="grace"/>;
    /// kills the tree if it is still running then.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }
        if (OperatingSystem.IsWindows() || SendSignal(process.Id, SigTerm) != 0)
        {
            KillTree();
            return;
        }
        using var deadline = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            KillTree();
        }
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>Kills the process and all its descendants, then waits for it to be gone.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        Running.TryRemove(this, out _);
        KillTree();
        await DrainOutputAsync();
        process.Dispose();
    }

    private static void AddLine(BoundedLog log, string? line, bool isError)
    {
        if (line is not null)
        {
            log.Add(line, isError);
        }
    }

    private void KillTree()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    // WaitForExitAsync also waits for the redirected streams to reach EOF, so the log is complete afterwards;
    // bounded, because a descendant that escaped the tree could hold the pipes open.
    private async Task DrainOutputAsync()
    {
        using var drain = new CancellationTokenSource(OutputDrainTimeout);
        try
        {
            await process.WaitForExitAsync(drain.Token);
        }
        catch (OperationCanceledException)
        {
            // Keep what was read so far.
        }
    }

    private string DescribeOutput()
    {
        var output = Output;
        return output.Length == 0 ? " It printed nothing." : $" Output:\n{output}";
    }
}
