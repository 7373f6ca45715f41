using Grpc.Core;

namespace Ovasabi.ServiceDefaults.Grpc;

/// <summary>One problem with one request field, named by its path (e.g. <c>profile.avatar_url</c>).</summary>
public sealed record FieldViolation(string Field, string Description);

/// <summary>
/// A domain error with the gRPC status it maps to. Throw these from services; anything else that escapes an RPC is
/// a bug and answers Internal.
/// </summary>
public abstract class ServiceException(StatusCode code, string message, string reason, Exception? inner = null) : Exception(message, inner)
{
    public StatusCode Code { get; } = code;

    /// <summary>A stable, upper-snake machine code for the ErrorInfo detail (e.g. <c>USER_NOT_FOUND</c>).</summary>
    public string Reason { get; } = reason;
}

/// <summary>InvalidArgument, naming every offending field.</summary>
public sealed class InvalidArgumentException : ServiceException
{
    public InvalidArgumentException(IReadOnlyList<FieldViolation> violations)
        : base(StatusCode.InvalidArgument, string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")), "INVALID_ARGUMENT")
    {
        Violations = violations;
    }

    public InvalidArgumentException(string field, string description) : this([new FieldViolation(field, description)])
    {
    }

    public IReadOnlyList<FieldViolation> Violations { get; }
}

public sealed class NotFoundException(string entity, string id)
    : ServiceException(StatusCode.NotFound, $"{entity} {ErrorText.Quote(id)} not found", entity.ToUpperInvariant() + "_NOT_FOUND");

/// <summary>How an error message quotes what a caller sent: at most a short prefix, so no input makes an error large.</summary>
public static class ErrorText
{
    public const int MaxQuoted = 64;

    public static string Quote(string input) => input.Length <= MaxQuoted ? input : input[..MaxQuoted] + "…";
}

/// <summary>AlreadyExists, naming the field whose value is taken.</summary>
public sealed class AlreadyExistsException(string field, string message)
    : ServiceException(StatusCode.AlreadyExists, message, field.ToUpperInvariant().Replace('.', '_') + "_TAKEN")
{
    public string Field { get; } = field;
}

public sealed class FailedPreconditionException(string message, string reason = "FAILED_PRECONDITION")
    : ServiceException(StatusCode.FailedPrecondition, message, reason);

/// <summary>The caller read an older version than the one stored (optimistic concurrency).</summary>
public sealed class VersionConflictException(string entity, long expected, long actual)
    : ServiceException(StatusCode.FailedPrecondition, $"{entity} is at version {actual}, not {expected}: read it again and retry", "VERSION_CONFLICT");

public sealed class PermissionDeniedException(string message)
    : ServiceException(StatusCode.PermissionDenied, message, "PERMISSION_DENIED");

public sealed class UnauthenticatedException(string message, string reason = "UNAUTHENTICATED")
    : ServiceException(StatusCode.Unauthenticated, message, reason);

public sealed class ResourceExhaustedException(string message, string reason = "RESOURCE_EXHAUSTED")
    : ServiceException(StatusCode.ResourceExhausted, message, reason);

/// <summary>A dependency the call needs is out of reach; the caller may retry.</summary>
public sealed class UnavailableException(string message, Exception? inner = null)
    : ServiceException(StatusCode.Unavailable, message, "DEPENDENCY_UNAVAILABLE", inner);
