using System.Collections.Concurrent;
using Grpc.Core;
using Ovasabi.Auth.V1;
using Ovasabi.Testing.Platform;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Anonymous floods of the calls that hash passwords, on a platform that hashes 2 at once and queues 8 (CreateUser, and Login through VerifyCredentials): each 19 MiB
/// Argon2id hash waits for a bounded number of turns, so 200 at once leave the user app's memory under the chart's
/// limit for it, and every answer is OK or ResourceExhausted (never Unavailable, Internal or a dropped call).
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class FloodTests(SoloPlatform platform)
{
    private const int Concurrent = 200;

    /// <summary>charts/ovasabi values appDefaults.resources.limits.memory.</summary>
    private const long ChartMemoryLimit = 512L * 1024 * 1024;

    [Fact]
    public async Task Two_hundred_concurrent_sign_ups_and_two_hundred_concurrent_sign_ins_answer_OK_or_ResourceExhausted_within_the_memory_limit()
    {
        var accounts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => platform.CreateAccountAsync()));
        var outcomes = new ConcurrentDictionary<string, int>();

        await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(async _ =>
            Count(outcomes, "sign-up", await OutcomeAsync(() => platform.UserClient().CreateUserAsync(UserPlatform.NewUser(), AppPlatform.From(AppPlatform.NewAddress())).ResponseAsync))));
        await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(async i =>
        {
            var (user, password) = accounts[i % accounts.Length];
            Count(outcomes, "sign-in", await OutcomeAsync(() => platform.AuthClient().LoginAsync(new LoginRequest { Login = user.Username, Password = password }, AppPlatform.From(AppPlatform.NewAddress())).ResponseAsync));
        }));

        var peak = platform.UserApp.PeakResidentBytes;
        TestContext.Current.TestOutputHelper?.WriteLine($"outcomes: {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}; user app peak RSS {peak / (1024 * 1024)} MiB");
        Assert.All(outcomes.Keys, k => Assert.True(k.EndsWith(" OK", StringComparison.Ordinal) || k.EndsWith(" ResourceExhausted", StringComparison.Ordinal), k));
        Assert.True(outcomes.GetValueOrDefault("sign-up OK") > 0 && outcomes.GetValueOrDefault("sign-in OK") > 0, "nothing got through");
        // The bound held: more arrived at once than 2 running and 8 waiting, and the rest were turned away.
        Assert.True(outcomes.GetValueOrDefault("sign-up ResourceExhausted") > 0 && outcomes.GetValueOrDefault("sign-in ResourceExhausted") > 0, "nothing was turned away");
        Assert.True(peak < ChartMemoryLimit, $"the user app peaked at {peak / (1024 * 1024)} MiB, over the chart's 512 MiB limit");
        // Those refused may come back: the app still serves.
        await platform.AuthClient().LoginAsync(new LoginRequest { Login = accounts[0].User.Username, Password = accounts[0].Password }, cancellationToken: Cancel);
    }

    private static void Count(ConcurrentDictionary<string, int> outcomes, string call, StatusCode code) => outcomes.AddOrUpdate($"{call} {code}", 1, (_, n) => n + 1);

    private static async Task<StatusCode> OutcomeAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
