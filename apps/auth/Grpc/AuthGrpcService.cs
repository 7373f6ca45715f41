using Microsoft.Extensions.Options;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Auth.Data;
using Ovasabi.Auth.Domain;
using Ovasabi.Auth.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.User.V1;

namespace Ovasabi.Auth.Grpc;

public sealed class AuthGrpcService(
    Sessions sessions,
    SignInGuard guard,
    SignInLockout lockout,
    IOptions<SecurityOptions> security,
    SigningKeyRing keys,
    AccessTokenValidator validator,
    UserService.UserServiceClient users,
    ILogger<AuthGrpcService> logger) : AuthService.AuthServiceBase
{
    // One answer for a wrong password, an unknown login and a locked account, so none can be told apart.
    private const string InvalidLogin = "invalid login or password";

    [Anonymous]
    public override async Task<TokenPair> Login(LoginRequest request, ServerCallContext context)
    {
        new Validator().Required("login", request.Login).MaxLength("login", request.Login, 254)
            .Required("password", request.Password).MaxLength("password", request.Password, 1024).ThrowIfInvalid();
        var client = Client(context);
        guard.AdmitAddress(client.Address);
        // Counters belong to the account, however it is named (username or email), and to the login as typed when
        // no account has that name, so unknown logins lock just the same.
        var accountId = await AccountIdAsync(request.Login, context.CancellationToken);
        var loginKey = SignInLockout.Key(accountId, request.Login);
        guard.AdmitAccount(loginKey);
        var locked = await lockout.IsLockedAsync(loginKey, context.CancellationToken);
        // Checked even when locked, so a locked account answers no faster than a wrong password; not recorded as a sign-in then.
        var verified = await VerifyAsync(request, checkOnly: locked, context.CancellationToken);
        if (locked || verified.Outcome != Outcome.Verified)
        {
            var reason = locked ? "locked" : verified.Outcome == Outcome.Suspended ? "suspended" : "invalid_credentials";
            await RecordFailureAsync(request.Login, loginKey, verified.UserId ?? accountId, reason, client, context.CancellationToken);
            if (!locked && verified.Outcome == Outcome.Suspended)
            {
                throw new FailedPreconditionException("the account is suspended", "ACCOUNT_SUSPENDED");
            }
            throw new UnauthenticatedException(InvalidLogin, "INVALID_CREDENTIALS");
        }
        await lockout.ClearAsync(loginKey, context.CancellationToken);
        return AuthMapping.Tokens(await sessions.StartAsync(Guid.Parse(verified.UserId!), verified.Roles, client, context.CancellationToken));
    }

    [Anonymous]
    public override async Task<TokenPair> Refresh(RefreshRequest request, ServerCallContext context)
    {
        new Validator().Required("refresh_token", request.RefreshToken).MaxLength("refresh_token", request.RefreshToken, 128).ThrowIfInvalid();
        var client = Client(context);
        guard.AdmitAddress(client.Address);
        // Roles as they are now, so a role change takes effect at the next refresh.
        return AuthMapping.Tokens(await sessions.RefreshAsync(TokenIssuer.Hash(request.RefreshToken), client, CurrentRolesAsync, context.CancellationToken));
    }

    [Authenticated]
    public override async Task<Empty> Logout(Empty request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        if (caller.SessionId is null)
        {
            throw new FailedPreconditionException("only a signed-in user has a session to end", "NO_SESSION");
        }
        var session = await sessions.FindAsync(Guid.Parse(caller.SessionId), context.CancellationToken);
        if (session is not null)
        {
            await sessions.EndAsync([session], "logout", context.CancellationToken);
        }
        return new Empty();
    }

    [Permission("auth.sessions.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<ListSessionsResponse> ListSessions(ListSessionsRequest request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        var userId = TargetUser(request.UserId, caller);
        var live = await sessions.LiveAsync(userId, context.CancellationToken);
        return new ListSessionsResponse { Sessions = { live.Select(s => AuthMapping.Session(s, caller.SessionId)) } };
    }

    [Permission("auth.sessions.revoke", OwnerCheckedByHandler = true)]
    public override async Task<Empty> RevokeSession(RevokeSessionRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var sessionId = validator.Id("session_id", request.SessionId);
        validator.ThrowIfInvalid();
        var session = await sessions.FindAsync(sessionId, context.CancellationToken);
        // Someone else's session is reported missing, not forbidden: its existence is not the caller's business.
        if (session is null || !context.GetCaller().Allows("auth.sessions.revoke", session.UserId.ToString()))
        {
            throw new NotFoundException("session", request.SessionId);
        }
        await EnsureOutranksAsync(context.GetCaller(), session.UserId, context.CancellationToken);
        await sessions.EndAsync([session], "revoked", context.CancellationToken);
        return new Empty();
    }

    [Permission("auth.sessions.revoke", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<RevokeAllSessionsResponse> RevokeAllSessions(RevokeAllSessionsRequest request, ServerCallContext context)
    {
        var userId = TargetUser(request.UserId, context.GetCaller());
        await EnsureOutranksAsync(context.GetCaller(), userId, context.CancellationToken);
        var live = await sessions.LiveAsync(userId, context.CancellationToken);
        await sessions.EndAsync(live, "revoke_all", context.CancellationToken);
        return new RevokeAllSessionsResponse { Revoked = live.Count };
    }

    [Permission("auth.tokens.authorize")]
    public override async Task<AuthorizeResponse> Authorize(AuthorizeRequest request, ServerCallContext context)
    {
        new Validator().Required("access_token", request.AccessToken).Required("permission", request.Permission)
            .MaxLength("permission", request.Permission, 128).MaxLength("resource", request.Resource, 128).ThrowIfInvalid();
        Caller holder;
        try
        {
            holder = await validator.ValidateAsync(request.AccessToken, context.CancellationToken);
        }
        catch (UnauthenticatedException e)
        {
            return new AuthorizeResponse { Allowed = false, Reason = e.Message };
        }
        var roles = await CurrentRolesAsync(Guid.Parse(holder.UserId!), context.CancellationToken);
        if (roles is null)
        {
            return new AuthorizeResponse { Allowed = false, UserId = holder.UserId, Reason = "the account is no longer active" };
        }
        var owner = request.Resource.Length == 0 ? null : request.Resource;
        var allowed = AccessPolicy.Allows(roles, request.Permission, holder.UserId, owner);
        return new AuthorizeResponse
        {
            Allowed = allowed,
            UserId = holder.UserId,
            Roles = { roles },
            Reason = allowed ? "" : $"roles [{string.Join(", ", roles)}] do not grant {request.Permission}" + (owner is null ? "" : $" on resources of {owner}"),
        };
    }

    [Anonymous]
    public override Task<Jwks> GetJwks(Empty request, ServerCallContext context) => Task.FromResult(keys.Jwks);

    private enum Outcome { Verified, Rejected, Suspended }

    private sealed record Verification(Outcome Outcome, string? UserId, IReadOnlyList<string> Roles);

    private async Task<Verification> VerifyAsync(LoginRequest request, bool checkOnly, CancellationToken cancellationToken)
    {
        try
        {
            var response = await users.VerifyCredentialsAsync(
                new VerifyCredentialsRequest { Login = request.Login, Password = request.Password, CheckOnly = checkOnly }, cancellationToken: cancellationToken);
            return new Verification(Outcome.Verified, response.User.UserId, response.Roles);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.InvalidArgument)
        {
            return new Verification(Outcome.Rejected, null, []);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            return new Verification(Outcome.Suspended, null, []);
        }
    }

    /// <summary>
    /// The account a login names (for lockout, and for the audit of a failed sign-in, since the user service does not say
    /// whose password was wrong); null when none exists. Every login is looked up, so the lookup tells nothing apart.
    /// </summary>
    private async Task<string?> AccountIdAsync(string login, CancellationToken cancellationToken)
    {
        var request = login.Contains('@', StringComparison.Ordinal) ? new GetUserRequest { Email = login } : new GetUserRequest { Username = login };
        try
        {
            return (await users.GetUserAsync(request, cancellationToken: cancellationToken)).UserId;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            return null;
        }
    }

    private async Task RecordFailureAsync(string login, string loginKey, string? userId, string reason, ClientInfo client, CancellationToken cancellationToken)
    {
        var state = await lockout.RecordFailureAsync(loginKey, cancellationToken);
        await sessions.RecordFailedSignInAsync(login, userId, reason, client, cancellationToken);
        if (state.LockedUntil is { } until && state.Failures == lockout.MaxFailures)
        {
            logger.LogWarning("Sign-in locked until {Until} after {Failures} failures (lock {Lock}) from {Address}", until, state.Failures, state.Locks, client.Address);
        }
    }

    /// <summary>
    /// A user acting on another user's sessions must rank at least as high (support does not end an administrator's
    /// sessions); the account's roles come from the user service.
    /// </summary>
    private async Task EnsureOutranksAsync(Caller caller, Guid userId, CancellationToken cancellationToken)
    {
        if (caller.Kind != CallerKind.User || string.Equals(caller.UserId, userId.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        try
        {
            var user = await users.GetUserAsync(new GetUserRequest { UserId = userId.ToString() }, cancellationToken: cancellationToken);
            caller.EnsureOutranks(user.Roles);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // A deleted account's sessions may be ended by anyone allowed to end sessions.
        }
    }

    /// <summary>The user's roles from the user service; null when the account is gone or suspended.</summary>
    private async Task<IReadOnlyList<string>?> CurrentRolesAsync(Guid userId, CancellationToken cancellationToken)
    {
        try
        {
            var user = await users.GetUserAsync(new GetUserRequest { UserId = userId.ToString() }, cancellationToken: cancellationToken);
            return user.Status == UserStatus.Active ? user.Roles : null;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The user a sessions call is about: the one named, or the caller's own when none is.</summary>
    private static Guid TargetUser(string requested, Caller caller)
    {
        var validator = new Validator();
        var id = caller.TargetUser(validator, "user_id", requested);
        validator.ThrowIfInvalid();
        return id;
    }

    private ClientInfo Client(ServerCallContext context) => new(ClientAddress.Of(context, security.Value), context.RequestHeaders.GetValue("user-agent"));
}
