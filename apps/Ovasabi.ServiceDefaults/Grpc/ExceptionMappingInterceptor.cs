using System.Diagnostics;
using System.Net.Sockets;
using Dapr;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Telemetry;
using GrpcStatus = Grpc.Core.Status;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.ServiceDefaults.Grpc;

/// <summary>
/// Turns what escapes an RPC into a precise gRPC status: domain errors keep their code (with ErrorInfo and BadRequest
/// details), a concurrent write is Aborted, an unreachable database or sidecar is Unavailable, a cancelled call is
/// Cancelled; anything else is a bug, logged, and answered Internal without internals. Also records
/// <c>rpc.server.duration</c> per method and status.
/// </summary>
public sealed class ExceptionMappingInterceptor(ServiceOptions options, ServiceMetrics metrics, ILogger<ExceptionMappingInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        ServeAsync(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        ServeAsync(context, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        ServeAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        ServeAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    /// <summary>Runs one call of any kind: maps what escapes it and records its duration and status.</summary>
    private async Task<T> ServeAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            return await call();
        }
        catch (Exception e)
        {
            var mapped = Map(e, context);
            code = mapped.StatusCode;
            throw mapped;
        }
        finally
        {
            metrics.RpcServed(context.Method, code, Stopwatch.GetElapsedTime(started));
        }
    }

    private RpcException Map(Exception error, ServerCallContext context)
    {
        switch (error)
        {
            case RpcException rpc:
                return rpc;
            case ServiceException domain:
                return Rich(domain.Code, domain.Message, domain.Reason, domain is InvalidArgumentException invalid ? invalid.Violations : []);
            case DbUpdateConcurrencyException:
            // Services turn the unique keys a caller can take (a username, an email) into AlreadyExists; any other
            // unique violation is a concurrent call inserting the same row first (e.g. the same role twice), and
            // PostgreSQL aborts one of two transactions that deadlock or cannot be serialised. Retrying succeeds.
            case DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected } }:
            case PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected }:
                return Rich(StatusCode.Aborted, "the entity was changed concurrently: read it again and retry", "CONCURRENT_UPDATE", []);
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new GrpcStatus(StatusCode.Cancelled, "the call was cancelled"));
        }
        if (IsUnavailable(error))
        {
            logger.LogWarning(error, "{Method} failed: a dependency is unavailable", context.Method);
            return Rich(StatusCode.Unavailable, "a dependency of the service is unavailable; retry later", "DEPENDENCY_UNAVAILABLE", []);
        }
        logger.LogError(error, "{Method} failed with an unexpected error", context.Method);
        return new RpcException(new GrpcStatus(StatusCode.Internal, "internal error"));
    }

    /// <summary>
    /// Failures to reach PostgreSQL (refused, reset, shut down, timed out) rather than a bad statement, to reach the
    /// Dapr sidecar, or of a component behind it.
    /// </summary>
    public static bool IsUnavailable(Exception error) => error switch
    {
        NpgsqlException { IsTransient: true } => true,
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState is "57P01" or "57P02" or "57P03",
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } => true,
        DbUpdateException { InnerException: { } inner } => IsUnavailable(inner),
        InvalidOperationException { InnerException: { } inner } => IsUnavailable(inner),
        // The Dapr SDK wraps the transport failure when the sidecar is down (a DaprClient call made by the service),
        // and a building block's failure the sidecar reports: daprd answers Internal when a component's backend fails
        // (ERR_STATE_GET, ERR_PUBSUB_PUBLISH_MESSAGE, ...), an outage of a dependency, not a bug of this service.
        DaprException { InnerException: RpcException { StatusCode: StatusCode.Internal } } => true,
        DaprException { InnerException: { } inner } => IsUnavailable(inner),
        RpcException { StatusCode: StatusCode.Unavailable } => true,
        // A state store's breaker is open, or a call to it timed out (Caching.StateStoreBreaker).
        Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException => true,
        HttpRequestException { InnerException: SocketException } => true,
        _ => false,
    };

    /// <summary>
    /// The most of a message or a field violation's description an error carries. Messages may quote what a caller
    /// sent (an ID, a code); cut short, no input can grow an error past what proxies pass on (gRPC trailers are headers).
    /// </summary>
    public const int MaxMessageLength = 512;

    private RpcException Rich(StatusCode code, string message, string reason, IReadOnlyList<FieldViolation> violations)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = Short(message) };
        status.Details.Add(Any.Pack(new ErrorInfo { Domain = $"{options.Name}.ovasabi", Reason = reason }));
        if (violations.Count > 0)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.AddRange(violations.Take(50).Select(v => new BadRequest.Types.FieldViolation { Field = Short(v.Field), Description = Short(v.Description) }));
            status.Details.Add(Any.Pack(badRequest));
        }
        return status.ToRpcException();
    }

    private static string Short(string text) => text.Length <= MaxMessageLength ? text : text[..(MaxMessageLength - 1)] + "…";
}
