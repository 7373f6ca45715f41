using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.ServiceDefaults.UnitTests;

/// <summary>Settings bound from configuration and checked, each problem naming its key.</summary>
public sealed class SettingsTests
{
    [Fact]
    public void A_bound_section_is_available_as_IOptions()
    {
        var options = Resolve<LockoutOptions>(new() { ["Security:Lockout:MaxFailures"] = "7" }, LockoutOptions.Section, LockoutOptions.Problems);

        Assert.Equal(7, options.Value.MaxFailures);
    }

    [Theory]
    [InlineData("Security:Lockout:MaxFailures", "0", "Security:Lockout:MaxFailures: must be positive")]
    [InlineData("Security:Lockout:MaxBackoff", "00:00:01", "Security:Lockout:MaxBackoff: must be at least BaseBackoff")]
    [InlineData("Security:Lockout:MaxFailures", "many", "Security:Lockout:MaxFailures")]
    [InlineData("Security:Lockout:Memory", "a day", "Security:Lockout:Memory")]
    public void A_bad_value_is_refused_with_its_key(string key, string value, string message)
    {
        var options = Resolve<LockoutOptions>(new() { [key] = value }, LockoutOptions.Section, LockoutOptions.Problems);

        var error = Assert.ThrowsAny<Exception>(() => options.Value);

        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("Service:StateStoreBreaker:FailureRatio", "1.5", "Service:StateStoreBreaker:FailureRatio: must be in (0, 1]")]
    [InlineData("Service:StateStoreBreaker:MinimumThroughput", "1", "Service:StateStoreBreaker:MinimumThroughput: must be at least 2")]
    [InlineData("Service:StateStoreBreaker:CallTimeout", "00:00:00", "Service:StateStoreBreaker:CallTimeout: must be positive")]
    public void The_state_store_breaker_refuses_settings_that_would_never_or_always_open_it(string key, string value, string message) =>
        Assert.Contains(message, Refusal<StateStoreBreakerOptions>(key, value, StateStoreBreakerOptions.Section, StateStoreBreakerOptions.Problems));

    [Theory]
    [InlineData("Security:TrustedProxyHops", "-1", "Security:TrustedProxyHops: must be a whole number, 0 or more")]
    [InlineData("Security:ClockSkewSeconds", "3600", "Security:ClockSkewSeconds: must be between 0 and 300")]
    [InlineData("Security:Issuer", "", "Security:Issuer: is required")]
    [InlineData("Security:KeyRefreshSeconds", "0", "Security:KeyRefreshSeconds: must be positive")]
    public void Security_settings_are_checked(string key, string value, string message) =>
        Assert.Contains(message, Refusal<SecurityOptions>(key, value, SecurityOptions.Section, SecurityOptions.Problems));

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var options = Resolve<LockoutOptions>(new() { ["Security:Lockout:MaxFailures"] = "0", ["Security:Lockout:Memory"] = "00:00:00" },
            LockoutOptions.Section, LockoutOptions.Problems);

        var error = Assert.Throws<OptionsValidationException>(() => options.Value);

        Assert.Equal(2, error.Failures.Count());
    }

    [Fact]
    public void Defaults_pass_their_own_checks()
    {
        Assert.Empty(LockoutOptions.Problems(new LockoutOptions()));
        Assert.Empty(StateStoreBreakerOptions.Problems(new StateStoreBreakerOptions()));
        Assert.Empty(SecurityOptions.Problems(new SecurityOptions()));
    }

    /// <summary>The validation message a single bad setting gets (fails unless it is refused).</summary>
    private static string Refusal<T>(string key, string value, string section, Func<T, IEnumerable<string>> problems) where T : class
    {
        var options = Resolve(new() { [key] = value }, section, problems);
        return Assert.Throws<OptionsValidationException>(() => options.Value).Message;
    }

    private static IOptions<T> Resolve<T>(Dictionary<string, string?> settings, string section, Func<T, IEnumerable<string>> problems) where T : class
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSettings(section, problems);
        return services.BuildServiceProvider().GetRequiredService<IOptions<T>>();
    }
}
