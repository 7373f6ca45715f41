using Ovasabi.Sample.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Sample.UnitTests;

public sealed class ItemRulesTests
{
    [Fact]
    public void A_name_is_trimmed()
    {
        var validator = new Validator();

        Assert.Equal("lamp", ItemRules.Name(validator, "name", "  lamp ", maxLength: 10));
        Assert.True(validator.IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("eleven char")]
    [InlineData("tab\tin")]
    public void An_empty_long_or_control_character_name_is_refused(string name)
    {
        var validator = new Validator();

        ItemRules.Name(validator, "name", name, maxLength: 10);

        Assert.False(validator.IsValid);
    }

    [Fact]
    public void The_default_settings_pass_and_a_bad_one_names_its_key()
    {
        Assert.Empty(SampleOptions.Problems(new SampleOptions()));
        Assert.Equal(["Sample:MaxNameLength: must be between 1 and 200"], SampleOptions.Problems(new SampleOptions { MaxNameLength = 0 }));
    }
}
