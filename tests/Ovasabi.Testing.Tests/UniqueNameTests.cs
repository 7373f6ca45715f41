namespace Ovasabi.Testing.Tests;

public sealed class UniqueNameTests
{
    [Theory]
    [InlineData("Orders.Api Tests", '-', "orders-api-tests-")]
    [InlineData("Orders.Api Tests", '_', "orders_api_tests_")]
    [InlineData("--Weird__Prefix--", '-', "weird-prefix-")]
    public void Lower_cases_the_prefix_and_appends_a_random_suffix(string prefix, char separator, string expectedStart)
    {
        var name = UniqueName.Create(prefix, separator);

        Assert.StartsWith(expectedStart, name);
        Assert.Equal(expectedStart.Length + UniqueName.SuffixLength, name.Length);
        Assert.Equal(name.ToLowerInvariant(), name);
    }

    [Fact]
    public void Stays_within_63_characters_and_differs_every_time()
    {
        var names = Enumerable.Range(0, 100).Select(_ => UniqueName.Create(new string('a', 200))).ToList();

        Assert.All(names, name => Assert.Equal(UniqueName.MaxLength, name.Length));
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void An_empty_prefix_gives_just_the_suffix()
    {
        Assert.Equal(UniqueName.SuffixLength, UniqueName.Create("..").Length);
    }
}
