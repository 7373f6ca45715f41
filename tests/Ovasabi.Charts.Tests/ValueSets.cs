namespace Ovasabi.Charts.Tests;

/// <summary>The value sets the chart is rendered with (charts/ovasabi/ci/*.yaml; null is the defaults) and what each enables.</summary>
public static class ValueSets
{
    public const string PostgresqlState = "postgresql-state";
    public const string HighAvailability = "ha";
    public const string NetworkPolicy = "network-policy";

    public static readonly string?[] All = [null, PostgresqlState, HighAvailability, NetworkPolicy];

    public static readonly string[] BuiltApps = ["auth", "finance", "user"];

    public static readonly string[] AllApps = ["asset", "auth", "broadcast", "campaign", "finance", "notification", "quotes", "referral", "user"];

    /// <summary>Who calls whom (the platform's dependency graph, written out here independently of the chart).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Calls = new Dictionary<string, string[]>
    {
        ["finance"] = ["user", "notification"],
        ["auth"] = ["user"],
        ["asset"] = ["user"],
        ["broadcast"] = ["user"],
        ["quotes"] = ["user"],
        ["campaign"] = ["user", "notification"],
        ["referral"] = ["user", "notification"],
    };

    public static string[] EnabledApps(string? valueSet) => valueSet == NetworkPolicy ? AllApps : BuiltApps;

    /// <summary>The enabled apps that may invoke <paramref name="app"/>, in name order.</summary>
    public static string[] CallersOf(string app, string? valueSet) =>
        EnabledApps(valueSet).Where(caller => Calls.TryGetValue(caller, out var callees) && callees.Contains(app)).Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<int, string?> WithBothHelms()
    {
        var data = new TheoryData<int, string?>();
        foreach (var major in new[] { 3, 4 })
        {
            foreach (var set in All)
            {
                data.Add(major, set);
            }
        }
        return data;
    }
}
