namespace Ovasabi.ServiceDefaults.Grpc;

/// <summary>
/// Collects every problem of a request before failing, so a caller learns all bad fields at once:
/// <c>new Validator().Required("email", r.Email).Check("age", r.Age > 0, "must be positive").ThrowIfInvalid();</c>
/// </summary>
public sealed class Validator
{
    private readonly List<FieldViolation> _violations = [];

    public bool IsValid => _violations.Count == 0;

    public Validator Add(string field, string description)
    {
        _violations.Add(new FieldViolation(field, description));
        return this;
    }

    /// <summary>Records <paramref name="problem"/> when there is one (rule helpers return a message or null).</summary>
    public Validator Problem(string field, string? problem) => problem is null ? this : Add(field, problem);

    public Validator Check(string field, bool condition, string description) => condition ? this : Add(field, description);

    public Validator Required(string field, string? value) => Check(field, !string.IsNullOrWhiteSpace(value), "is required");

    public Validator MaxLength(string field, string? value, int max) =>
        Check(field, value is null || value.Length <= max, $"must be at most {max} characters");

    /// <summary>A UUID in its canonical text form; returns <see cref="Guid.Empty"/> (and records the problem) otherwise.</summary>
    public Guid Id(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "is required");
            return Guid.Empty;
        }
        if (!Guid.TryParseExact(value, "D", out var id))
        {
            Add(field, "must be a UUID");
            return Guid.Empty;
        }
        return id;
    }

    /// <summary>
    /// A request's Timestamp as a <see cref="DateTimeOffset"/>, null when unset; one out of protobuf's range or not
    /// normalized (nanos outside 0..999,999,999) is recorded as a problem instead of failing the call as Internal.
    /// </summary>
    public DateTimeOffset? Time(string field, Google.Protobuf.WellKnownTypes.Timestamp? value) => Convert(field, value, v => v.ToDateTimeOffset());

    /// <summary>A request's Duration as a <see cref="TimeSpan"/>, null when unset; one not normalized or out of range is a problem.</summary>
    public TimeSpan? Duration(string field, Google.Protobuf.WellKnownTypes.Duration? value) => Convert(field, value, v => v.ToTimeSpan());

    private T? Convert<TValue, T>(string field, TValue? value, Func<TValue, T> convert)
        where TValue : class
        where T : struct
    {
        if (value is null)
        {
            return null;
        }
        try
        {
            return convert(value);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            Add(field, "is not a valid protobuf value (out of range or not normalized)");
            return null;
        }
    }

    public void ThrowIfInvalid()
    {
        if (!IsValid)
        {
            throw new InvalidArgumentException(_violations.ToList());
        }
    }
}
