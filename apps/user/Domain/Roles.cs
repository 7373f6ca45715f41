using System.Collections.Frozen;

namespace Ovasabi.User.Domain;

/// <summary>A role the platform knows, as listed by ListRoleCatalog.</summary>
public sealed record RoleDefinition(string Name, string Description);

/// <summary>The role catalogue and the rules for giving a user roles.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Support = "support";
    public const string User = "user";
    public const string Service = "service";

    /// <summary>Room for roles added to the catalogue later; a user with more than this is a mistake, not a need.</summary>
    public const int MaxRolesPerUser = 10;

    public static IReadOnlyList<RoleDefinition> Catalog { get; } =
    [
        new(Admin, "Administers the platform, including users and their roles."),
        new(Support, "Customer support staff who help users with their accounts."),
        new(User, "An ordinary account holder."),
        new(Service, "A machine identity for another ovasabi service, not a person."),
    ];

    private static readonly FrozenSet<string> Names = Catalog.Select(r => r.Name).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Whether the name is in the catalogue, spelt exactly (role names are lower-case identifiers).</summary>
    public static bool IsKnown(string? name) => name is not null && Names.Contains(name);

    /// <summary>What is wrong with giving the user the role, or null. Giving a role the user already has is fine.</summary>
    /// <param name="currentRoles">The roles the user has now.</param>
    /// <param name="role">The role to add.</param>
    public static string? ValidateAssignment(IReadOnlyCollection<string> currentRoles, string role)
    {
        ArgumentNullException.ThrowIfNull(currentRoles);
        if (!IsKnown(role))
        {
            return $"must be one of {string.Join(", ", Catalog.Select(r => r.Name))}";
        }
        if (currentRoles.Contains(role, StringComparer.Ordinal))
        {
            return null;
        }
        return currentRoles.Count >= MaxRolesPerUser ? $"a user can have at most {MaxRolesPerUser} roles" : null;
    }
}
