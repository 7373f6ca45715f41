using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Sample.Domain;

/// <summary>An item as callers see it.</summary>
public sealed record ItemView(Guid Id, Guid OwnerUserId, string Name, DateTimeOffset CreatedAt);

/// <summary>The rules of an item.</summary>
public static class ItemRules
{
    /// <summary>A name is required, trimmed, at most <paramref name="maxLength"/> characters, without control characters.</summary>
    public static string Name(Validator validator, string field, string name, int maxLength)
    {
        var trimmed = name.Trim();
        validator.Required(field, trimmed)
            .Check(field, trimmed.Length <= maxLength, $"must be at most {maxLength} characters")
            .Check(field, !trimmed.Any(char.IsControl), "must not contain control characters");
        return trimmed;
    }
}
