using Ovasabi.Auth.Domain;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Auth.Events;
using Ovasabi.Auth.V1.Events;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.Data;

/// <summary>Where a session started, for the audit record.</summary>
public sealed record ClientInfo(string Address, string? UserAgent);

/// <summary>
/// Sessions: a row in PostgreSQL (kept for audit) and, while live, an entry in the shared session store every app
/// checks. Starting writes the store first and revoking removes it first, so a failure halfway leaves a session that
/// works nowhere rather than one that works after it was ended.
/// </summary>
public sealed class Sessions(AuthDbContext db, SessionRegistry registry, TokenIssuer tokens, TimeProvider time, ILogger<Sessions> logger)
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

    /// <summary>A refresh token and its session, both locked for the exchange.</summary>
    private async Task<(SessionRecord Session, RefreshTokenRecord Token)?> FindForRefreshAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var token = await db.RefreshTokens.FromSql($"SELECT * FROM service_auth_refresh_token WHERE hash = {hash} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
        if (token is null)
        {
            return null;
        }
        var session = await db.Sessions.FromSql($"SELECT * FROM service_auth_session WHERE id = {token.SessionId} FOR UPDATE").Include(s => s.Master).SingleAsync(cancellationToken);
        return (session, token);
    }

    private IssuedTokens Rotate(SessionRecord session, RefreshTokenRecord used, IEnumerable<string> roles, DateTimeOffset now)
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

    /// <summary>Ends sessions and saves (see <see cref="RevokeAsync"/>).</summary>
    public async Task EndAsync(IReadOnlyList<SessionRecord> sessions, string reason, CancellationToken cancellationToken)
    {
        await RevokeAsync(sessions, reason, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Exchanges a refresh token (by its hash) for a new pair, once: the token and its session are locked, so one
    /// exchange wins. A token used before ends its session (one of its two holders stole it, <c>auth.token.reuse_detected</c>);
    /// an account that is no longer active (<paramref name="currentRoles"/> null) ends it too. Unauthenticated, with the
    /// reason, for every refusal.
    /// </summary>
    /// <param name="currentRoles">The user's roles now, or null when the account is gone or suspended.</param>
    public async Task<IssuedTokens> RefreshAsync(byte[] hash, ClientInfo client, Func<Guid, CancellationToken, Task<IReadOnlyList<string>?>> currentRoles,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var found = await FindForRefreshAsync(hash, cancellationToken);
        var now = time.GetUtcNow();
        var verdict = found is { } pair ? RefreshRules.Judge(pair.Session.IsLive(now), pair.Token.UsedAt, pair.Token.ExpiresAt, now) : RefreshVerdict.Invalid;
        if (verdict == RefreshVerdict.Invalid)
        {
            throw new UnauthenticatedException("the refresh token is invalid or its session has ended", "REFRESH_TOKEN_INVALID");
        }
        var (session, token) = found!.Value;
        if (verdict == RefreshVerdict.Reused)
        {
            logger.LogWarning("Refresh token reuse on session {Session} of user {User} from {Address}: session revoked", session.Master.Uuid, session.UserId, client.Address);
            db.AddEvent(AuthTopics.TokenReuseDetected, new TokenReuseDetected
            {
                UserId = session.UserId.ToString(), SessionId = session.Master.Uuid.ToString(), ClientAddress = client.Address, OccurredAt = Timestamp.FromDateTimeOffset(now),
            }, session.Master);
            await EndAsync([session], "token_reuse", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            throw new UnauthenticatedException("the refresh token was already used: the session is revoked", "REFRESH_TOKEN_REUSED");
        }
        if (verdict == RefreshVerdict.Expired)
        {
            throw new UnauthenticatedException("the refresh token has expired: sign in again", "REFRESH_TOKEN_EXPIRED");
        }
        var roles = await currentRoles(session.UserId, cancellationToken);
        if (roles is null)
        {
            await EndAsync([session], "user_unavailable", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            throw new UnauthenticatedException("the account is no longer active: sign in again", "ACCOUNT_INACTIVE");
        }
        var tokens = Rotate(session, token, roles, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return tokens;
    }

    /// <summary>Records a refused sign-in for the audit (<c>auth.login.failed</c>).</summary>
    public async Task RecordFailedSignInAsync(string login, string? userId, string reason, ClientInfo client, CancellationToken cancellationToken)
    {
        db.AddEvent(AuthTopics.LoginFailed, new LoginFailed
        {
            Login = login.Length > 254 ? login[..254] : login,
            UserId = userId ?? "",
            Reason = reason,
            ClientAddress = client.Address,
            OccurredAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        });
        await db.SaveChangesAsync(cancellationToken);
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
