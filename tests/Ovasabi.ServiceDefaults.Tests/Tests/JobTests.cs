using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Ovasabi.ServiceDefaults.Jobs;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>
/// The library's Jobs API support: <see cref="JobScheduler"/> schedules through the sidecar, and OnJobEvent routes each
/// trigger to the handler of its name prefix, answering as daprd needs (OK, NotFound = never retry, Unavailable = retry).
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class JobTests(ProbePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private JobScheduler Scheduler => platform.Probe.Services.GetRequiredService<JobScheduler>();

    private static string NewName() => SignalJobHandler.NamePrefix + Guid.NewGuid().ToString("N");

    private int Triggers(string name) => platform.Probe.Services.GetRequiredService<DeliveryCounter>().Of(name);

    private Task<long> HandledAsync(string name) =>
        platform.CountAsync("SELECT count(*) FROM probe_handled_event WHERE event_id = @id", ("id", name));

    private string Logs() => platform.Probe.Logs.ToString();

    [Fact]
    public async Task A_job_scheduled_through_the_library_reaches_its_handler_through_the_sidecar_with_its_payload()
    {
        var name = NewName();

        Assert.True(await Scheduler.ScheduleAsync(name, new Signal { Key = "scheduled" }, JobTiming.At(DateTimeOffset.UtcNow), overwrite: false, Cancel));

        await Eventually.Async(() => HandledAsync(name), n => n == 1, "the job to be handled", context: Logs);
        Assert.Equal(1, await platform.CountAsync("SELECT count(*) FROM probe_handled_event WHERE event_id = @id AND key = 'scheduled'", ("id", name)));
    }

    [Fact]
    public async Task Scheduling_a_taken_name_without_overwrite_answers_false_and_keeps_the_first_job()
    {
        var name = NewName();
        var later = new JobTiming(DueTime: "1h");

        Assert.True(await Scheduler.ScheduleAsync(name, new Signal { Key = "first" }, later, overwrite: false, Cancel));
        Assert.False(await Scheduler.ScheduleAsync(name, new Signal { Key = "second" }, later, overwrite: false, Cancel));
        Assert.True(await Scheduler.ScheduleAsync(name, new Signal { Key = "third" }, later, overwrite: true, Cancel));

        await Scheduler.DeleteAsync(name, Cancel);
        await Scheduler.DeleteAsync(name, Cancel);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_by_the_jobs_failure_policy_until_handled()
    {
        var name = NewName();

        await Scheduler.ScheduleAsync(name, new Signal { Key = "flaky", Behavior = "transient", FailTimes = 2 },
            JobTiming.At(DateTimeOffset.UtcNow) with { RetryInterval = TimeSpan.FromMilliseconds(100) }, overwrite: false, Cancel);

        await Eventually.Async(() => HandledAsync(name), n => n == 1, "the retried job to be handled", context: Logs);
        Assert.Equal(3, Triggers(name));
    }

    [Fact]
    public async Task A_domain_error_is_NotFound_so_daprd_does_not_retry_it()
    {
        var name = NewName();

        var refused = await Assert.ThrowsAsync<RpcException>(() => TriggerAsync(name, Any.Pack(new Signal { Key = "k", Behavior = "domain" })));

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Equal(1, Triggers(name));
        Assert.Equal(0, await HandledAsync(name));
    }

    [Fact]
    public async Task A_transient_error_is_Unavailable_so_the_failure_policy_retries()
    {
        var name = NewName();

        var refused = await Assert.ThrowsAsync<RpcException>(() => TriggerAsync(name, Any.Pack(new Signal { Key = "k", Behavior = "transient", FailTimes = 1 })));

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
    }

    public static TheoryData<string, string, Any?> Undeliverable => new()
    {
        { "a name no handler serves", "nobody-serves-" + Guid.NewGuid().ToString("N"), Any.Pack(new Signal { Key = "k" }) },
        { "a payload of another type", NewName(), Any.Pack(new Note { Key = "k" }) },
        { "no payload", NewName(), null },
        { "bytes that do not parse", NewName(), new Any { TypeUrl = "type.googleapis.com/" + Signal.Descriptor.FullName, Value = ByteString.CopyFrom(0xff, 0xff, 0xff) } },
    };

    [Theory]
    [MemberData(nameof(Undeliverable))]
    public async Task A_trigger_that_can_never_be_handled_is_NotFound_and_reaches_no_handler(string tried, string name, Any? payload)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => TriggerAsync(name, payload));

        Assert.True(refused.StatusCode == StatusCode.NotFound, tried);
        Assert.Equal(0, Triggers(name));
    }

    /// <summary>Calls the probe's OnJobEvent as its sidecar does.</summary>
    private Task<JobEventResponse> TriggerAsync(string name, Any? payload)
    {
        var request = new JobEventRequest { Name = name, Method = "job/" + name, ContentType = payload?.TypeUrl ?? "" };
        if (payload is not null)
        {
            request.Data = payload;
        }
        return platform.Probe.Callback.OnJobEventAsync(request, Cancel);
    }
}
