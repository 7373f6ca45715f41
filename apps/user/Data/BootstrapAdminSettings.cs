namespace Ovasabi.User.Data;

/// <summary>
/// The platform's first administrator, from <c>User:BootstrapAdmin:Username</c>, <c>:Email</c> and <c>:Password</c>
/// (env <c>User__BootstrapAdmin__Username</c>, ...): without it nobody could be given the admin role.
/// A class rather than a record, whose generated ToString would print the password.
/// </summary>
public sealed class BootstrapAdminSettings
{
    public const string Section = "User:BootstrapAdmin";

    private static readonly string[] Keys = ["Username", "Email", "Password"];

    public required string Username { get; init; }

    public required string Email { get; init; }

    /// <summary>Used only to create the account: never logged, and never applied to an account that exists.</summary>
    public required string Password { get; init; }

    /// <summary>The settings, or null when none of the three is set.</summary>
    /// <exception cref="InvalidOperationException">Only some are set; the message names the missing keys.</exception>
    public static BootstrapAdminSettings? From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        // Empty counts as unset, as a chart's blank value leaves the variable defined but empty.
        var missing = Keys.Where(key => string.IsNullOrEmpty(section[key])).ToList();
        if (missing.Count == Keys.Length)
        {
            return null;
        }
        if (missing.Count > 0)
        {
            var names = missing.Select(key => $"{Section}:{key} (env {Section.Replace(":", "__", StringComparison.Ordinal)}__{key})");
            throw new InvalidOperationException(
                $"user: the bootstrap administrator needs Username, Email and Password set together, or none of them; not set: {string.Join(", ", names)}");
        }
        return new BootstrapAdminSettings { Username = section["Username"]!, Email = section["Email"]!, Password = section["Password"]! };
    }
}
