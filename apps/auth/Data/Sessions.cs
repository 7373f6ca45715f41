using Ovasabi.Auth.Domain;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Auth.Events;
using Ovasabi.Auth.V1.Events;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.Data;

/// <summary>Where a session started, for the audit record.</summary>
public sealed record ClientInfo(string Address, string? UserAgent);

/// <summary>
/// Sessions: a row in PostgreSQL (kept for audit) and, while live, an entry in the shared session store every app
/// checks. Starting writes the store first and revoking removes it first, so a failure halfway leaves a session that
/// works nowhere rather than one that works after it was ended.
/// </summary>
public sealed class Sessions(AuthDbContext db, SessionRegistry registry, TokenIssuer tokens, TimeProvider time)
{
    public async Task<IssuedTokens> StartAsync(Guid userId, IEnumerable<string> roles, ClientInfo client, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var session = new SessionRecord
        {
            Master = new MasterRecord { Type = "session", Name = userId.ToString() },
            UserId = userId,
            CreatedAt = now,
            LastRefreshAt = now,
            ExpiresAt = tokens.SessionExpiry(now),
            ClientAddress = Truncate(client.Address, 64),
            UserAgent = Truncate(client.UserAgent, 256),
        };
        var sessionId = session.Master.Uuid;
        await registry.SaveAsync(sessionId.ToString(), new SessionEntry(userId.ToString(), session.ExpiresAt), cancellationToken);
        var (refreshToken, hash) = TokenIssuer.NewRefreshToken();
        var refreshExpires = tokens.RefreshTokenExpiry(now, session.ExpiresAt);
        db.Sessions.Add(session);
        db.RefreshTokens.Add(new RefreshTokenRecord { Hash = hash, Session = session, IssuedAt = now, ExpiresAt = refreshExpires });
        db.AddEvent(AuthTopics.LoginSucceeded, new LoginSucceeded
        {
            UserId = userId.ToString(), SessionId = sessionId.ToString(), ClientAddress = client.Address, OccurredAt = Timestamp.FromDateTimeOffset(now),
        }, session.Master);
        await db.SaveChangesAsync(cancellationToken);
        return tokens.Issue(userId, sessionId, roles, refreshToken, refreshExpires, now);
    }

    /// <summary>Exchanges an unused refresh token of a live session for a new pair (locked, so one exchange wins).</summary>
    public async Task<(SessionRecord Session, RefreshTokenRecord Token)?> FindForRefreshAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var token = await db.RefreshTokens.FromSql($"SELECT * FROM service_auth_refresh_token WHERE hash = {hash} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
        if (token is null)
        {
            return null;
        }
        var session = await db.Sessions.FromSql($"SELECT * FROM service_auth_session WHERE id = {token.SessionId} FOR UPDATE").Include(s => s.Master).SingleAsync(cancellationToken);
        return (session, token);
    }

    public IssuedTokens Rotate(SessionRecord session, RefreshTokenRecord used, IEnumerable<string> roles, DateTimeOffset now)
    {
        used.UsedAt = now;
        session.LastRefreshAt = now;
        var (refreshToken, hash) = TokenIssuer.NewRefreshToken();
        var refreshExpires = tokens.RefreshTokenExpiry(now, session.ExpiresAt);
        db.RefreshTokens.Add(new RefreshTokenRecord { Hash = hash, SessionId = session.Id, IssuedAt = now, ExpiresAt = refreshExpires });
        return tokens.Issue(session.UserId, session.Master.Uuid, roles, refreshToken, refreshExpires, now);
    }

    public Task<SessionRecord?> FindAsync(Guid sessionId, CancellationToken cancellationToken) =>
        db.Sessions.Include(s => s.Master).SingleOrDefaultAsync(s => s.Master.Uuid == sessionId, cancellationToken);

    public async Task<IReadOnlyList<SessionRecord>> LiveAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return await db.Sessions.Include(s => s.Master)
            .Where(s => s.UserId == userId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>Ends sessions (the caller saves): out of the session store first, then marked with the reason and announced.</summary>
    public async Task RevokeAsync(IReadOnlyList<SessionRecord> sessions, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var session in sessions.Where(s => s.RevokedAt is null))
        {
            await registry.RemoveAsync(session.Master.Uuid.ToString(), cancellationToken);
            session.RevokedAt = now;
            session.RevokeReason = reason;
            db.AddEvent(AuthTopics.SessionRevoked, new SessionRevoked
            {
                UserId = session.UserId.ToString(), SessionId = session.Master.Uuid.ToString(), Reason = reason, OccurredAt = Timestamp.FromDateTimeOffset(now),
            }, session.Master);
        }
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];
}
