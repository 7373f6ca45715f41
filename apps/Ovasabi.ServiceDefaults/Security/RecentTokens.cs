using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>
/// Access tokens this replica verified, with their session found live, for <c>Security:SessionCheckSeconds</c>: a
/// client calling again within that time is neither verified nor looked up again, which saves a signature check and a
/// state store call per request. So a session ended elsewhere stops its tokens here within that time; a session
/// ended through this replica stops them at once.
/// </summary>
public sealed class RecentTokens(IOptions<SecurityOptions> options, TimeProvider time)
{
    // Enough for the clients of one replica; beyond it, what has expired goes, and if nothing has, everything.
    private const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, (Caller Caller, DateTimeOffset Until)> _tokens = new(StringComparer.Ordinal);

    /// <summary>The caller of a token verified within the check interval, else null.</summary>
    public Caller? Find(string token) =>
        _tokens.TryGetValue(token, out var entry) && entry.Until > time.GetUtcNow() ? entry.Caller : null;

    /// <summary>Remembers a verified token whose session is live, never past the token's own expiry.</summary>
    public void Remember(string token, Caller caller, DateTimeOffset expires)
    {
        var interval = options.Value.SessionCheckInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        var now = time.GetUtcNow();
        if (_tokens.Count >= Capacity)
        {
            foreach (var (stale, entry) in _tokens)
            {
                if (entry.Until <= now)
                {
                    _tokens.TryRemove(stale, out _);
                }
            }
            if (_tokens.Count >= Capacity)
            {
                _tokens.Clear();
            }
        }
        var until = now + interval;
        _tokens[token] = (caller, until < expires ? until : expires);
    }

    /// <summary>Forgets the tokens of an ended session.</summary>
    public void ForgetSession(string sessionId)
    {
        foreach (var (token, entry) in _tokens)
        {
            if (entry.Caller.SessionId == sessionId)
            {
                _tokens.TryRemove(token, out _);
            }
        }
    }
}
