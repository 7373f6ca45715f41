using Ovasabi.User.Domain;

namespace Ovasabi.User.UnitTests;

public sealed class RolesTests
{
    [Fact]
    public void The_catalogue_is_the_access_tables_admin_support_and_user_each_with_a_one_line_description()
    {
        // No "service" role: other apps act by grants of their own in the access table, never as a user with a role.
        Assert.Equal(["admin", "support", "user"], Roles.Catalog.Select(r => r.Name));
        Assert.All(Roles.Catalog, r =>
        {
            Assert.False(string.IsNullOrWhiteSpace(r.Description));
            Assert.DoesNotContain('\n', r.Description);
        });
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("support")]
    [InlineData("user")]
    public void Catalogued_roles_are_known(string role)
    {
        Assert.True(Roles.IsKnown(role));
    }

    [Theory]
    [InlineData("Admin")] // role names are exact identifiers
    [InlineData(" admin")]
    [InlineData("superuser")]
    [InlineData("service")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_unknown(string? role)
    {
        Assert.False(Roles.IsKnown(role));
    }

    [Fact]
    public void Assigning_an_unknown_role_names_the_known_ones()
    {
        Assert.Equal("must be one of admin, support, user", Roles.ValidateAssignment([], "root"));
    }

    [Fact]
    public void A_user_may_be_given_a_tenth_role_but_not_an_eleventh()
    {
        var nine = Enumerable.Range(0, 9).Select(i => $"role{i}").ToList();
        var ten = Enumerable.Range(0, 10).Select(i => $"role{i}").ToList();

        Assert.Null(Roles.ValidateAssignment(nine, Roles.Admin));
        Assert.Equal("a user can have at most 10 roles", Roles.ValidateAssignment(ten, Roles.Admin));
    }

    [Fact]
    public void Assigning_a_role_the_user_already_has_is_fine_even_at_the_limit()
    {
        var ten = Enumerable.Range(0, 9).Select(i => $"role{i}").Append(Roles.Support).ToList();

        Assert.Null(Roles.ValidateAssignment(ten, Roles.Support));
    }
}
