using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ovasabi.ServiceDefaults.Hosting;

/// <summary>
/// Every app's settings are read one way: a configuration section bound to an options class, available as
/// <see cref="IOptions{TOptions}"/>, and checked when the app starts. A value that does not convert, or that the
/// class's checks refuse, stops the app with a message naming the configuration key.
/// </summary>
public static class Settings
{
    /// <summary>Binds <paramref name="section"/> to <typeparamref name="T"/> and checks it at start with <paramref name="problems"/>.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="section">The configuration section, e.g. <c>Finance</c> or <c>User:RateLimits</c>.</param>
    /// <param name="problems">What is wrong with a bound value, each message starting with the key it is about.</param>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section, Func<T, IEnumerable<string>>? problems = null) where T : class
    {
        var builder = services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
        if (problems is not null)
        {
            services.AddSingleton<IValidateOptions<T>>(new ProblemValidator<T>(problems));
        }
        return builder;
    }

    /// <summary>
    /// The settings of <paramref name="section"/> now, for what must be known while the app is built (its ports),
    /// checked like <see cref="AddSettings{T}"/>: an <see cref="OptionsValidationException"/> lists what is wrong.
    /// </summary>
    public static T Read<T>(IConfiguration configuration, string section, Func<T, IEnumerable<string>> problems) where T : class, new()
    {
        var value = configuration.GetSection(section).Get<T>() ?? new T();
        var found = problems(value).ToList();
        return found.Count == 0 ? value : throw new OptionsValidationException(section, typeof(T), found);
    }

    /// <summary>"<paramref name="key"/>: <paramref name="problem"/>" when <paramref name="ok"/> is false.</summary>
    public static IEnumerable<string> Check(bool ok, string key, string problem) => ok ? [] : [$"{key}: {problem}"];

    private sealed class ProblemValidator<T>(Func<T, IEnumerable<string>> problems) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var found = problems(options).ToList();
            return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
        }
    }
}
