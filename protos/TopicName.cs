using System.Collections.Concurrent;
using System.Reflection;
using Google.Protobuf.Reflection;
using Ovasabi.Common.V1;

namespace Ovasabi.Contracts;

/// <summary>
/// Topic names as the contracts declare them: each service's <c>&lt;Service&gt;Topic</c> enum (its events.proto) names
/// one topic per value with the <c>(ovasabi.common.v1.topic)</c> option. Code never spells a topic; it names the value.
/// </summary>
public static class TopicName
{
    private static readonly ConcurrentDictionary<Type, EnumDescriptor> Enums = new();

    /// <summary>The topic of <paramref name="topic"/>, e.g. <c>user.user.created</c> for <c>UserTopic.UserCreated</c>.</summary>
    public static string Of<T>(T topic) where T : struct, Enum
    {
        var value = DescriptorOf<T>().FindValueByNumber(Convert.ToInt32(topic, System.Globalization.CultureInfo.InvariantCulture));
        return value?.GetOptions()?.GetExtension(TopicsExtensions.Topic) is { Length: > 0 } name
            ? name
            : throw new ArgumentOutOfRangeException(nameof(topic), topic, $"{typeof(T).Name}.{topic} names no topic");
    }

    /// <summary>Every topic of a <c>&lt;Service&gt;Topic</c> enum, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum =>
        [.. DescriptorOf<T>().Values.Where(v => v.Number != 0).Select(v => v.GetOptions().GetExtension(TopicsExtensions.Topic))];

    /// <summary>Every topic every contract declares.</summary>
    public static IReadOnlyList<string> Declared() =>
        [.. Files().SelectMany(f => f.EnumTypes).SelectMany(e => e.Values)
            .Select(v => v.GetOptions()?.GetExtension(TopicsExtensions.Topic)).OfType<string>().Where(t => t.Length > 0)];

    private static EnumDescriptor DescriptorOf<T>() => Enums.GetOrAdd(typeof(T), type =>
        Files().SelectMany(f => f.EnumTypes).FirstOrDefault(e => e.ClrType == type)
        ?? throw new ArgumentException($"{type.FullName} is not an enum of the contracts"));

    private static IEnumerable<FileDescriptor> Files() =>
        Assembly.GetExecutingAssembly().GetTypes()
            .Where(t => t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>();
}
