using System.Net;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>Polling with generous deadlines: what a background loop, a broker or a restart does shows up "eventually".</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>Polls <paramref name="observe"/> until <paramref name="done"/> holds for what it returns, and returns that.</summary>
    public static async Task<T> Async<T>(Func<Task<T>> observe, Func<T, bool> done, string what, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await observe();
            if (done(value))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                var extra = context is null ? "" : $"\n{context()}";
                throw new TimeoutException($"gave up waiting for {what} after {(timeout ?? DefaultTimeout).TotalSeconds:0} s; last seen: {value}{extra}");
            }
            await Task.Delay(Interval);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds.</summary>
    public static Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? context = null) =>
        Async(condition, ok => ok, what, timeout, context);

    /// <summary>Polls GET <paramref name="path"/> until it answers <paramref name="status"/>; returns the body.</summary>
    public static async Task<string> StatusAsync(HttpClient client, string path, HttpStatusCode status, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var (_, body) = await Async(async () =>
        {
            try
            {
                using var response = await client.GetAsync(path);
                return ((HttpStatusCode?)response.StatusCode, await response.Content.ReadAsStringAsync());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return ((HttpStatusCode?)null, e.Message);
            }
        }, r => r.Item1 == status, $"GET {path} to answer {(int)status}", timeout, context);
        return body;
    }
}
