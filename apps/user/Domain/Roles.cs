using System.Collections.Frozen;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.User.Domain;

/// <summary>A role the platform knows, as listed by ListRoleCatalog.</summary>
public sealed record RoleDefinition(string Name, string Description);

/// <summary>The role catalogue (the access table's roles, protos/ovasabi/access.yaml) and the rules for giving a user roles.</summary>
public static class Roles
{
    public const string Admin = AccessPolicy.Admin;
    public const string Support = AccessPolicy.Support;
    public const string User = AccessPolicy.User;

    /// <summary>Room for roles added to the catalogue later; a user with more than this is a mistake, not a need.</summary>
    public const int MaxRolesPerUser = 10;

    public static IReadOnlyList<RoleDefinition> Catalog { get; } = [.. AccessPolicy.Roles.Select(r => new RoleDefinition(r.Name, r.Description))];

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
