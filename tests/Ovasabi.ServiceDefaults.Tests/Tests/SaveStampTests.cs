using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Tests.Probe;
using Ovasabi.Testing;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>What every save stamps on <c>master</c>: the create and update times, from the app's clock.</summary>
public sealed class SaveStampTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A clock that says what the test sets.</summary>
    private sealed class SetClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static ProbeDbContext Context(string connectionString, TimeProvider clock) =>
        new(new DbContextOptionsBuilder<ProbeDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention()
            .UseApplicationServiceProvider(new ServiceCollection().AddSingleton(clock).BuildServiceProvider()).Options);

    [Fact]
    public async Task A_change_stamps_the_update_time_also_when_the_clock_is_on_a_whole_microsecond()
    {
        // Whole seconds: nothing for the microsecond truncation to change, so only the stamp itself can mark the column.
        var created = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
        var clock = new SetClock(created);
        var database = await postgres.CreateDatabaseAsync("stamps", Cancel);
        await using (var db = Context(database, clock))
        {
            await db.Database.MigrateAsync(Cancel);
            db.Items.Add(new ProbeItem { Name = "stamped", Master = new MasterRecord { Type = "probe", Name = "stamped" } });
            await db.SaveChangesAsync(Cancel);
        }

        clock.Now = created.AddSeconds(1);
        await using (var db = Context(database, clock))
        {
            var item = await db.Items.Include(i => i.Master).SingleAsync(Cancel);
            item.Master.Version++;
            await db.SaveChangesAsync(Cancel);
        }

        await using (var db = Context(database, clock))
        {
            var master = await db.Masters.AsNoTracking().SingleAsync(Cancel);
            Assert.Equal((created, created.AddSeconds(1), 2L), (master.CreatedAt, master.UpdatedAt, master.Version));
        }
    }
}
