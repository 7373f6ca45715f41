using System.Collections;
using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Ovasabi.Common.V1;

namespace Ovasabi.ServiceDefaults.Grpc;

/// <summary>
/// Every string and bytes field of a request has a size limit, checked before anything else reads the request: the
/// field's <c>(ovasabi.common.v1.max_length)</c> option or <see cref="DefaultMaxLength"/>. A message field with the option
/// is limited as a whole (its encoded size), anything else is looked into. A request over a limit is InvalidArgument
/// naming each field (never quoting it), so a huge value can neither reach a rule that echoes it nor slow one down.
/// </summary>
public sealed class RequestLimits : Interceptor
{
    /// <summary>Characters of a string (bytes of a bytes field) unless the contract sets another limit.</summary>
    public const int DefaultMaxLength = 4096;

    private static readonly ConcurrentDictionary<FieldDescriptor, int?> Limits = new();

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ThrowIfOverLimits(request as IMessage);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ThrowIfOverLimits(request as IMessage);
        return continuation(request, responseStream, context);
    }

    /// <summary>The fields of <paramref name="message"/> over their limits (empty when none).</summary>
    public static IReadOnlyList<FieldViolation> Check(IMessage message)
    {
        var violations = new List<FieldViolation>();
        Walk(message, "", violations);
        return violations;
    }

    /// <summary>The limit of a field: its option, else the default for strings and bytes, else none (a message is looked into).</summary>
    public static int? LimitOf(FieldDescriptor field) => Limits.GetOrAdd(field, static f =>
        f.GetOptions()?.HasExtension(LimitsExtensions.MaxLength) == true ? (int)f.GetOptions().GetExtension(LimitsExtensions.MaxLength)
        : f.FieldType is FieldType.String or FieldType.Bytes ? DefaultMaxLength
        : null);

    private static void ThrowIfOverLimits(IMessage? request)
    {
        if (request is not null && Check(request) is { Count: > 0 } violations)
        {
            throw new InvalidArgumentException(violations);
        }
    }

    private static void Walk(IMessage message, string prefix, List<FieldViolation> violations)
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            var path = prefix + field.Name;
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                // A map's keys and values are checked by its entry's fields; violations name the map, never a key.
                var (key, entryValue) = (field.MessageType.FindFieldByNumber(1), field.MessageType.FindFieldByNumber(2));
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    CheckValue(key, entry.Key, path, violations);
                    CheckValue(entryValue, entry.Value, path, violations);
                }
            }
            else if (field.IsRepeated)
            {
                var index = 0;
                foreach (var item in (IList)value)
                {
                    CheckValue(field, item, $"{path}[{index++}]", violations);
                }
            }
            else
            {
                CheckValue(field, value, path, violations);
            }
        }
    }

    private static void CheckValue(FieldDescriptor field, object? value, string path, List<FieldViolation> violations)
    {
        var limit = LimitOf(field);
        switch (value)
        {
            case string text when text.Length > limit:
                violations.Add(new FieldViolation(path, $"is too long: at most {limit} characters"));
                break;
            case ByteString bytes when bytes.Length > limit:
                violations.Add(new FieldViolation(path, $"is too long: at most {limit} bytes"));
                break;
            case IMessage nested when limit is { } max:
                if (nested.CalculateSize() > max)
                {
                    violations.Add(new FieldViolation(path, $"is too large: at most {max} bytes encoded"));
                }
                break;
            case IMessage nested:
                Walk(nested, path + ".", violations);
                break;
        }
    }
}
