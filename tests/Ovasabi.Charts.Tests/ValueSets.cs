namespace Ovasabi.Charts.Tests;

/// <summary>The value sets the chart is rendered with (charts/ovasabi/ci/*.yaml; null is the defaults) and what each enables.</summary>
public static class ValueSets
{
    public const string PostgresqlState = "postgresql-state";
    public const string HighAvailability = "ha";
    public const string NetworkPolicy = "network-policy";

    public static readonly string?[] All = [null, PostgresqlState, HighAvailability, NetworkPolicy];

    public static readonly string[] BuiltApps = ["auth", "finance", "notification", "user"];

    public static readonly string[] AllApps = ["asset", "auth", "broadcast", "campaign", "finance", "notification", "quotes", "referral", "user"];

    public static string[] EnabledApps(string? valueSet) => valueSet == NetworkPolicy ? AllApps : BuiltApps;

    /// <summary>The app IDs outside the chart allowed in (appDefaults.externalCallers).</summary>
    public static string[] ExternalCallers(string? valueSet) => valueSet == NetworkPolicy ? ["gateway"] : [];

    /// <summary>The enabled apps the access table lets invoke <paramref name="app"/>, in name order.</summary>
    public static string[] CallersOf(string app, string? valueSet) =>
        EnabledApps(valueSet).Where(caller => AccessTable.Allowed(app, caller, EnabledApps(valueSet), []).Count > 0).Order(StringComparer.Ordinal).ToArray();

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
