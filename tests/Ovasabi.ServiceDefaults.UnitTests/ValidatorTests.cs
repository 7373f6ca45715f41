using Google.Protobuf.WellKnownTypes;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.ServiceDefaults.UnitTests;

public sealed class ValidatorTests
{
    [Fact]
    public void A_valid_timestamp_and_duration_convert_and_unset_ones_are_null()
    {
        var validator = new Validator();
        var at = new DateTimeOffset(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);

        Assert.Equal(at, validator.Time("at", Timestamp.FromDateTimeOffset(at)));
        Assert.Equal(TimeSpan.FromSeconds(90), validator.Duration("window", Duration.FromTimeSpan(TimeSpan.FromSeconds(90))));
        Assert.Null(validator.Time("none", null));
        Assert.Null(validator.Duration("none", null));
        Assert.True(validator.IsValid);
    }

    [Fact]
    public void A_timestamp_with_two_billion_nanos_and_a_duration_of_mixed_signs_are_problems_not_exceptions()
    {
        var validator = new Validator();

        Assert.Null(validator.Time("at", new Timestamp { Seconds = 1_800_000_000, Nanos = 2_000_000_000 }));
        Assert.Null(validator.Duration("window", new Duration { Seconds = 2, Nanos = -1 }));

        var error = Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid);
        Assert.StartsWith("at: is not a valid protobuf value", error.Message, StringComparison.Ordinal);
        Assert.Contains("; window: is not a valid protobuf value", error.Message, StringComparison.Ordinal);
    }
}
