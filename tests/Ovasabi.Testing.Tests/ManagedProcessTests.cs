using System.Globalization;

namespace Ovasabi.Testing.Tests;

public sealed class ManagedProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dispose_kills_the_child_and_its_descendants()
    {
        var shell = ManagedProcess.Start(new ProcessCommand("/bin/sh", ["-c", "sleep 300 & echo $!; wait"]));
        await shell.WaitUntilReadyAsync(_ => Task.FromResult(shell.Output.Length > 0), Timeout, Cancellation);
        var shellPid = shell.Id;
        var sleepPid = int.Parse(shell.Output.Trim(), CultureInfo.InvariantCulture);
        Assert.True(IsAlive(sleepPid));

        await shell.DisposeAsync();

        await WaitUntilAsync(() => !IsAlive(shellPid) && !IsAlive(sleepPid));
    }

    [Fact]
    public async Task Exiting_before_ready_throws_with_the_captured_output()
    {
        await using var failing = ManagedProcess.Start(
            new ProcessCommand("/bin/sh", ["-c", "echo starting; echo 'bind: address in use' >&2; exit 3"]) { Name = "fake-server" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => failing.WaitUntilReadyAsync(_ => Task.FromResult(false), Timeout, Cancellation));

        Assert.StartsWith("fake-server exited with code 3 before it was ready.", error.Message);
        Assert.Contains("starting", error.Message);
        Assert.Contains("bind: address in use", error.Message);
    }

    [Fact]
    public async Task Not_ready_in_time_throws_a_timeout_with_the_captured_output()
    {
        await using var slow = ManagedProcess.Start(new ProcessCommand("/bin/sh", ["-c", "echo still warming up; sleep 300"]));

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => slow.WaitUntilReadyAsync(_ => Task.FromResult(false), TimeSpan.FromMilliseconds(500), Cancellation));

        Assert.Contains("sh was not ready within 0.5 s", error.Message);
        Assert.Contains("still warming up", error.Message);
    }

    [Fact]
    public async Task RunAsync_returns_stdout_and_throws_with_the_output_on_failure()
    {
        var stdout = await ManagedProcess.RunAsync(new ProcessCommand("/bin/sh", ["-c", "echo out; echo err >&2"]), Timeout, Cancellation);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => ManagedProcess.RunAsync(new ProcessCommand("/bin/sh", ["-c", "echo why it failed >&2; exit 2"]), Timeout, Cancellation));

        Assert.Equal("out", stdout);
        Assert.Contains("failed with exit code 2", error.Message);
        Assert.Contains("why it failed", error.Message);
    }

    [Fact]
    public async Task RunAsync_passes_arguments_environment_and_working_directory()
    {
        var directory = Directory.CreateTempSubdirectory("ovasabi-cwd-").FullName;
        try
        {
            Environment.SetEnvironmentVariable("OVASABI_TEST_INHERITED", "inherited");
            var command = new ProcessCommand("/bin/sh", ["-c", "echo \"$1|$OVASABI_TEST_SET|${OVASABI_TEST_INHERITED-unset}|$(pwd)\"", "sh", "two words"])
            {
                WorkingDirectory = directory,
                Environment = new Dictionary<string, string?> { ["OVASABI_TEST_SET"] = "set", ["OVASABI_TEST_INHERITED"] = null },
            };

            var stdout = await ManagedProcess.RunAsync(command, Timeout, Cancellation);

            Assert.Equal($"two words|set|unset|{directory}", stdout);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OVASABI_TEST_INHERITED", null);
            Directory.Delete(directory);
        }
    }

    [Fact]
    public void Output_keeps_only_the_last_lines()
    {
        var log = new BoundedLog(capacity: 2);

        log.Add("one", isError: false);
        log.Add("two", isError: true);
        log.Add("three", isError: false);

        Assert.Equal("[1 earlier lines dropped]\ntwo\nthree", log.ToString());
        Assert.Equal("three", log.StandardOutput);
    }

    // A killed process whose parent is gone may stay a zombie if PID 1 does not reap it: that is dead too.
    private static bool IsAlive(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return false;
        }

        var state = stat[(stat.LastIndexOf(')') + 2)..][0];
        return state is not ('Z' or 'X');
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20, Cancellation);
        }
    }
}
