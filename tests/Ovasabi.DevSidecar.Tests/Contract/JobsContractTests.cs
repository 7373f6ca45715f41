// The Alpha1 twins are obsolete in Dapr.Protos, and daprd still serves them: these tests call them on purpose.
#pragma warning disable CS0612
using System.Collections.Concurrent;
using System.Globalization;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ovasabi.DevSidecar.Tests.Jobs;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A gRPC app and its sidecar (with an app API token) for the Jobs API, plus a second app ID's sidecar without an app.
/// The app answers each trigger as <see cref="Answer"/> says for the job's name.
/// </summary>
public sealed class JobsSidecar : SidecarFixture
{
    public const string AppToken = "app-token-for-jobs";

    public ConcurrentDictionary<string, StatusCode> Answers { get; } = new(StringComparer.Ordinal);

    public CallbackApp App { get; private set; } = null!;

    public SidecarProcess Sidecar { get; private set; } = null!;

    public GrpcDapr.Dapr.DaprClient Grpc { get; private set; } = null!;

    public GrpcDapr.Dapr.DaprClient OtherApp { get; private set; } = null!;

    /// <summary>Makes the app answer triggers of <paramref name="jobName"/> with <paramref name="code"/>.</summary>
    public void Answer(string jobName, StatusCode code) => Answers[jobName] = code;

    protected override async Task StartAsync()
    {
        App = Own(await CallbackApp.StartAsync(UniqueName.Create("jobs"), app => app.OnJob = r => Answers.TryGetValue(r.Name, out var code) ? code : null));
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(App.AppId, Resources.Directory)
        {
            AppPort = App.Port,
            Environment = new Dictionary<string, string?> { ["APP_API_TOKEN"] = AppToken },
        }));
        await Sidecar.WaitReadyAsync();
        Grpc = Sidecar.CreateGrpcClient();
        var other = Own(await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("jobs-other"), Resources.Directory)));
        OtherApp = other.CreateGrpcClient();
    }
}

/// <summary>The Jobs API as daprd 1.19 with its scheduler serves it to a gRPC app, through a real dev sidecar.</summary>
public sealed class JobsContractTests(JobsSidecar fixture) : IClassFixture<JobsSidecar>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private GrpcDapr.Dapr.DaprClient Grpc => fixture.Grpc;

    private static string Name(string hint) => $"{hint}-{Guid.NewGuid():N}";

    private Task ScheduleAsync(Job job, bool overwrite = false) =>
        Grpc.ScheduleJobAsync(new ScheduleJobRequest { Job = job, Overwrite = overwrite }, cancellationToken: Cancel).ResponseAsync;

    private Task<IReadOnlyList<Received>> TriggersAsync(string name, int count, TimeSpan? timeout = null) =>
        fixture.App.WaitForAsync(r => r.Kind is "job" or "job-alpha1" && r.Job.Name == name, count, timeout);

    private Task<IReadOnlyList<Received>> SettledTriggersAsync(string name, TimeSpan quiet) =>
        fixture.App.SettleAsync(r => r.Kind is "job" or "job-alpha1" && r.Job.Name == name, quiet);

    /// <summary>Waits until the job is gone (GetJob fails as daprd's does for a missing job) and returns that error.</summary>
    private async Task<RpcException> GoneAsync(string name)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                await Grpc.GetJobAsync(new GetJobRequest { Name = name }, cancellationToken: Cancel);
            }
            catch (RpcException e)
            {
                return e;
            }
            Assert.True(DateTime.UtcNow < deadline, $"job {name} was still there after 10 s");
            await Task.Delay(100, Cancel);
        }
    }

    private static JobFailurePolicy Constant(TimeSpan interval, uint? maxRetries)
    {
        var constant = new JobFailurePolicyConstant { Interval = Duration.FromTimeSpan(interval) };
        if (maxRetries is { } max)
        {
            constant.MaxRetries = max;
        }
        return new JobFailurePolicy { Constant = constant };
    }

    [Fact]
    public async Task GetJob_returns_the_original_strings_the_payload_as_stored_and_the_default_failure_policy()
    {
        var name = Name("get");
        var job = TestJobs.New(name, schedule: "@every 1h", dueTime: "1h", repeats: 5, ttl: "P1D");
        job.Data = new Any { TypeUrl = "dapr.io/schedule/jobpayload", Value = ByteString.CopyFromUtf8("{\"k\": 1}") };
        await ScheduleAsync(job);

        var stored = (await Grpc.GetJobAsync(new GetJobRequest { Name = name }, cancellationToken: Cancel)).Job;
        var alpha = (await Grpc.GetJobAlpha1Async(new GetJobRequest { Name = name }, cancellationToken: Cancel)).Job;

        var expected = job.Clone();
        expected.FailurePolicy = Constant(TimeSpan.FromSeconds(1), 3);
        Assert.Equal(expected, stored);
        Assert.Equal(expected, alpha);
    }

    [Fact]
    public async Task A_job_due_at_an_instant_fires_once_not_before_it_with_daprds_request_and_the_app_token_then_is_gone()
    {
        var name = Name("once");
        var due = DateTimeOffset.UtcNow.AddSeconds(1.5);
        var job = TestJobs.New(name, dueTime: due.ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", CultureInfo.InvariantCulture));
        job.Data = new Any { TypeUrl = "type.googleapis.com/ovasabi.test.Wake", Value = ByteString.CopyFrom(1, 2, 3) };
        await ScheduleAsync(job);

        var trigger = Assert.Single(await TriggersAsync(name, 1));
        Assert.True(trigger.Time >= due, $"fired at {trigger.Time:O}, due at {due:O}");
        Assert.Equal("job", trigger.Kind);
        Assert.Equal(new JobEventRequest
        {
            Name = name,
            Data = job.Data,
            Method = "job/" + name,
            ContentType = "type.googleapis.com/ovasabi.test.Wake",
            HttpExtension = new HTTPExtension { Verb = HTTPExtension.Types.Verb.Post },
        }, trigger.Job);
        Assert.Equal(JobsSidecar.AppToken, trigger.Headers["dapr-api-token"]);

        var gone = await GoneAsync(name);
        Assert.Equal(StatusCode.Internal, gone.StatusCode);
        Assert.Equal($"failed to get job due to: rpc error: code = NotFound desc = job not found: {name}", gone.Status.Detail);
        Assert.Equal("DAPR_SCHEDULER_GET_JOB", gone.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
        Assert.Single(await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_job_without_data_arrives_without_data_or_content_type()
    {
        var name = Name("nodata");
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s"));

        var trigger = Assert.Single(await TriggersAsync(name, 1)).Job;
        Assert.Null(trigger.Data);
        Assert.Equal("", trigger.ContentType);
    }

    [Fact]
    public async Task Every_with_repeats_fires_exactly_that_many_times_then_is_gone()
    {
        var name = Name("repeats");
        await ScheduleAsync(TestJobs.New(name, schedule: "@every 200ms", repeats: 3));

        await TriggersAsync(name, 3);
        await GoneAsync(name);
        Assert.Equal(3, (await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(600))).Count);
    }

    [Fact]
    public async Task A_ttl_ends_the_schedule_no_tick_after_it_fires()
    {
        var name = Name("ttl");
        // Ticks at 0.3, 0.6 and 0.9 s; the one at 1.2 s is past the ttl.
        await ScheduleAsync(TestJobs.New(name, schedule: "@every 300ms", ttl: "1s"));

        await TriggersAsync(name, 3);
        await GoneAsync(name);
        Assert.Equal(3, (await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(600))).Count);
    }

    [Fact]
    public async Task With_a_schedule_and_a_due_time_the_first_tick_is_the_due_time_and_the_next_follow_the_schedule()
    {
        var name = Name("due-and-schedule");
        var start = DateTimeOffset.UtcNow;
        await ScheduleAsync(TestJobs.New(name, schedule: "@every 400ms", dueTime: "600ms", repeats: 2));

        var triggers = await TriggersAsync(name, 2);
        Assert.True(triggers[0].Time >= start.AddMilliseconds(600), $"first at +{(triggers[0].Time - start).TotalMilliseconds} ms");
        Assert.True(triggers[1].Time >= start.AddMilliseconds(1000), $"second at +{(triggers[1].Time - start).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_six_field_cron_schedule_fires_on_whole_seconds()
    {
        var name = Name("cron");
        await ScheduleAsync(TestJobs.New(name, schedule: "* * * * * *", repeats: 2));

        var triggers = await TriggersAsync(name, 2);
        Assert.True(triggers[1].Time - triggers[0].Time > TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task A_taken_name_without_overwrite_is_AlreadyExists_and_keeps_the_job_with_overwrite_it_is_replaced()
    {
        var name = Name("dup");
        await ScheduleAsync(TestJobs.New(name, schedule: "@every 1h"));

        var refused = await Assert.ThrowsAsync<RpcException>(() => ScheduleAsync(TestJobs.New(name, schedule: "@every 2h")));
        Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
        Assert.Equal($"failed to schedule job due to: rpc error: code = AlreadyExists desc = job already exists: 'app||default||{fixture.App.AppId}||{name}'",
            refused.Status.Detail);
        Assert.Equal("@every 1h", (await Grpc.GetJobAsync(new GetJobRequest { Name = name }, cancellationToken: Cancel)).Job.Schedule);

        await ScheduleAsync(TestJobs.New(name, schedule: "@every 2h"), overwrite: true);
        Assert.Equal("@every 2h", (await Grpc.GetJobAsync(new GetJobRequest { Name = name }, cancellationToken: Cancel)).Job.Schedule);
        await Grpc.DeleteJobAsync(new DeleteJobRequest { Name = name }, cancellationToken: Cancel);
    }

    [Fact]
    public async Task Overwriting_a_job_restarts_its_count()
    {
        var name = Name("overwrite-count");
        await ScheduleAsync(TestJobs.New(name, schedule: "@every 200ms", repeats: 2));
        await TriggersAsync(name, 1);

        await ScheduleAsync(TestJobs.New(name, schedule: "@every 200ms", repeats: 2), overwrite: true);

        await GoneAsync(name);
        Assert.InRange((await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(600))).Count, 3, 4);
    }

    public static TheoryData<string, Job?, string, string> EmptyFields => new()
    {
        { "no job", null, "Job is empty", "DAPR_SCHEDULER_EMPTY" },
        { "no name", new Job { Schedule = "@every 1s" }, "Name is empty", "DAPR_SCHEDULER_JOB_NAME_EMPTY" },
        { "no schedule or due time", new Job { Name = "j", Repeats = 1 }, "Schedule is empty", "DAPR_SCHEDULER_SCHEDULE_EMPTY" },
    };

    [Theory]
    [MemberData(nameof(EmptyFields))]
    public async Task Empty_fields_are_InvalidArgument_with_daprds_reason_and_the_app_id(string tried, Job? job, string message, string reason)
    {
        var request = new ScheduleJobRequest();
        if (job is not null)
        {
            request.Job = job;
        }
        var refused = await Assert.ThrowsAsync<RpcException>(() => Grpc.ScheduleJobAsync(request, cancellationToken: Cancel).ResponseAsync);

        Assert.True(refused.StatusCode == StatusCode.InvalidArgument, tried);
        Assert.Equal(message, refused.Status.Detail);
        var info = refused.GetRpcStatus()!.GetDetail<ErrorInfo>()!;
        Assert.Equal(reason, info.Reason);
        Assert.Equal(fixture.App.AppId, info.Metadata["appID"]);
        Assert.Equal("default", info.Metadata["namespace"]);
    }

    [Fact]
    public async Task Get_and_delete_with_an_empty_name_are_InvalidArgument()
    {
        var get = await Assert.ThrowsAsync<RpcException>(() => Grpc.GetJobAsync(new GetJobRequest(), cancellationToken: Cancel).ResponseAsync);
        var delete = await Assert.ThrowsAsync<RpcException>(() => Grpc.DeleteJobAsync(new DeleteJobRequest(), cancellationToken: Cancel).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "Name is empty"), (get.StatusCode, get.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "Name is empty"), (delete.StatusCode, delete.Status.Detail));
    }

    [Theory]
    [InlineData("five-field cron", "* * * * *", null, null, null, "job failed validation: expected exactly 6 fields, found 5: [* * * * *]")]
    [InlineData("unknown descriptor", "@foo", null, null, null, "job failed validation: unrecognized descriptor: @foo")]
    [InlineData("repeats 0", "@every 1s", null, 0u, null, "job failed validation: defined repeats must be greater than 0")]
    [InlineData("ttl without a schedule", null, "1s", null, "1m", "job failed validation: job must have a schedule to have a ttl")]
    [InlineData("due time in words", null, "tomorrow", null, null, "job failed validation: due time format not recognized")]
    [InlineData("ttl before the due time", "@every 1s", "1h", null, "2000-01-01T00:00:00Z", "job failed validation: ttl must be greater than due time")]
    public async Task A_job_the_scheduler_refuses_is_Internal_with_its_words(string tried, string? schedule, string? dueTime, uint? repeats, string? ttl, string problem)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => ScheduleAsync(TestJobs.New(Name("invalid"), schedule, dueTime, repeats, ttl)));

        Assert.True(refused.StatusCode == StatusCode.Internal, tried);
        Assert.Equal($"failed to schedule job due to: rpc error: code = Unknown desc = {problem}", refused.Status.Detail);
        Assert.Equal("DAPR_SCHEDULER_SCHEDULE_JOB", refused.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
    }

    [Fact]
    public async Task A_name_with_a_slash_is_refused_and_one_with_pipes_spaces_and_at_signs_fires()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => ScheduleAsync(TestJobs.New("bad/name", dueTime: "0s")));
        Assert.Equal(StatusCode.Internal, refused.StatusCode);
        Assert.Equal("failed to schedule job due to: rpc error: code = Unknown desc = name contains forbidden character: \"/\"", refused.Status.Detail);

        var name = $"my||job@name {Guid.NewGuid():N}";
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s"));
        Assert.Equal("job/" + name, Assert.Single(await TriggersAsync(name, 1)).Job.Method);
    }

    [Fact]
    public async Task Deleting_a_missing_job_is_OK_and_a_deleted_job_never_fires()
    {
        await Grpc.DeleteJobAsync(new DeleteJobRequest { Name = Name("never-was") }, cancellationToken: Cancel);

        var name = Name("deleted");
        await ScheduleAsync(TestJobs.New(name, dueTime: "700ms"));
        await Grpc.DeleteJobAlpha1Async(new DeleteJobRequest { Name = name }, cancellationToken: Cancel);

        Assert.Empty(await SettledTriggersAsync(name, TimeSpan.FromSeconds(1.2)));
    }

    [Fact]
    public async Task Jobs_belong_to_their_app_id_listed_by_name_and_deleted_by_prefix()
    {
        var prefix = Name("list");
        string[] names = [$"{prefix}-b", $"{prefix}-a", $"{prefix}-B", $"{prefix}x"];
        foreach (var name in names)
        {
            await ScheduleAsync(TestJobs.New(name, schedule: "@every 1h"));
        }
        await fixture.OtherApp.ScheduleJobAsync(new ScheduleJobRequest { Job = TestJobs.New($"{prefix}-a", schedule: "@every 2h") }, cancellationToken: Cancel);

        var listed = (await Grpc.ListJobsAsync(new ListJobsRequest(), cancellationToken: Cancel)).Jobs.Where(j => j.Name.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Equal([$"{prefix}-B", $"{prefix}-a", $"{prefix}-b", $"{prefix}x"], listed.Select(j => j.Name));
        Assert.Equal("@every 1h", (await Grpc.GetJobAsync(new GetJobRequest { Name = $"{prefix}-a" }, cancellationToken: Cancel)).Job.Schedule);

        await Grpc.DeleteJobsByPrefixAsync(new DeleteJobsByPrefixRequest { NamePrefix = prefix + "-" }, cancellationToken: Cancel);

        var left = (await Grpc.ListJobsAlpha1Async(new ListJobsRequestAlpha1(), cancellationToken: Cancel)).Jobs.Where(j => j.Name.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Equal([$"{prefix}x"], left.Select(j => j.Name));
        var others = (await fixture.OtherApp.ListJobsAsync(new ListJobsRequest(), cancellationToken: Cancel)).Jobs;
        Assert.Contains(others, j => j.Name == $"{prefix}-a" && j.Schedule == "@every 2h");
        await Grpc.DeleteJobsByPrefixAlpha1Async(new DeleteJobsByPrefixRequestAlpha1 { NamePrefix = prefix }, cancellationToken: Cancel);
        await fixture.OtherApp.DeleteJobsByPrefixAsync(new DeleteJobsByPrefixRequest { NamePrefix = prefix }, cancellationToken: Cancel);
    }

    [Fact]
    public async Task A_failing_app_gets_the_default_policy_four_deliveries_a_second_apart_then_the_job_is_gone()
    {
        var name = Name("default-policy");
        fixture.Answer(name, StatusCode.Unavailable);
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s"));

        var triggers = await TriggersAsync(name, 4, TimeSpan.FromSeconds(15));
        await GoneAsync(name);
        Assert.Equal(4, (await SettledTriggersAsync(name, TimeSpan.FromSeconds(1.5))).Count);
        Assert.True(triggers[3].Time - triggers[0].Time >= TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_constant_policy_retries_at_its_interval_up_to_max_retries()
    {
        var name = Name("constant-policy");
        fixture.Answer(name, StatusCode.Internal);
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s", policy: Constant(TimeSpan.FromMilliseconds(100), 2)));

        await TriggersAsync(name, 3);
        await GoneAsync(name);
        Assert.Equal(3, (await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(500))).Count);
    }

    [Fact]
    public async Task A_constant_policy_without_max_retries_retries_until_the_job_is_deleted()
    {
        var name = Name("forever");
        fixture.Answer(name, StatusCode.Unavailable);
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s", policy: Constant(TimeSpan.FromMilliseconds(50), null)));

        await TriggersAsync(name, 6);
        await Grpc.DeleteJobAsync(new DeleteJobRequest { Name = name }, cancellationToken: Cancel);
        var settled = (await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(300))).Count;
        Assert.Equal(settled, (await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(500))).Count);
    }

    [Fact]
    public async Task A_drop_policy_delivers_once_and_a_repeating_job_moves_on_to_its_next_tick()
    {
        var name = Name("drop");
        fixture.Answer(name, StatusCode.Unavailable);
        await ScheduleAsync(TestJobs.New(name, schedule: "@every 300ms", repeats: 2, policy: new JobFailurePolicy { Drop = new JobFailurePolicyDrop() }));

        await TriggersAsync(name, 2);
        await GoneAsync(name);
        Assert.Equal(2, (await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(600))).Count);
    }

    [Fact]
    public async Task NotFound_from_the_app_counts_as_delivered()
    {
        var name = Name("not-found");
        fixture.Answer(name, StatusCode.NotFound);
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s"));

        await TriggersAsync(name, 1);
        await GoneAsync(name);
        Assert.Single(await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(1500)));
    }

    [Fact]
    public async Task An_app_without_OnJobEvent_gets_the_trigger_through_OnJobEventAlpha1()
    {
        var name = Name("alpha1");
        fixture.Answer(name, StatusCode.Unimplemented);
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s"));

        var trigger = Assert.Single(await TriggersAsync(name, 1));
        Assert.Equal("job-alpha1", trigger.Kind);
        Assert.Equal("job/" + name, trigger.Job.Method);
        await GoneAsync(name);
    }

    [Fact]
    public async Task An_app_that_refuses_OnJobEvent_is_not_asked_through_OnJobEventAlpha1()
    {
        var name = Name("refused");
        fixture.Answer(name, StatusCode.PermissionDenied);
        await ScheduleAsync(TestJobs.New(name, dueTime: "0s", policy: new JobFailurePolicy { Drop = new JobFailurePolicyDrop() }));

        await GoneAsync(name);
        var triggers = await SettledTriggersAsync(name, TimeSpan.FromMilliseconds(300));
        Assert.Equal(["job"], triggers.Select(t => t.Kind));
    }
}

/// <summary>Jobs outlive their sidecar, wait for a sidecar of their app ID, and each tick reaches one replica.</summary>
public sealed class JobsDurabilityTests : IAsyncDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly ResourceFolder _resources = new();
    private readonly List<IAsyncDisposable> _started = [];

    private async Task<(CallbackApp App, SidecarProcess Sidecar)> StartAsync(string appId)
    {
        var app = await CallbackApp.StartAsync(appId);
        _started.Add(app);
        var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(appId, _resources.Directory) { AppPort = app.Port });
        _started.Add(sidecar);
        await sidecar.WaitReadyAsync(Cancel);
        return (app, sidecar);
    }

    [Fact]
    public async Task A_job_due_while_no_sidecar_of_its_app_runs_fires_when_one_starts_again()
    {
        var appId = UniqueName.Create("jobs-restart");
        var (app, sidecar) = await StartAsync(appId);
        await sidecar.CreateGrpcClient().ScheduleJobAsync(new ScheduleJobRequest { Job = new Job { Name = "wake", DueTime = "1s" } }, cancellationToken: Cancel);
        await sidecar.DisposeAsync();

        Assert.Empty(await app.SettleAsync(r => r.Kind == "job", TimeSpan.FromSeconds(2)));

        var (restarted, _) = await StartAsync(appId);
        Assert.Equal("wake", Assert.Single(await restarted.WaitForAsync(r => r.Kind == "job")).Job.Name);
    }

    [Fact]
    public async Task Each_tick_reaches_one_of_two_replicas()
    {
        var appId = UniqueName.Create("jobs-replicas");
        var replicas = await Task.WhenAll(StartAsync(appId), StartAsync(appId));
        await replicas[0].Sidecar.CreateGrpcClient().ScheduleJobAsync(
            new ScheduleJobRequest { Job = new Job { Name = "tick", Schedule = "@every 100ms", Repeats = 20 } }, cancellationToken: Cancel);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        int Count() => replicas.Sum(r => r.App.All.Count(x => x.Kind == "job"));
        while (Count() < 20 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Cancel);
        }
        await Task.Delay(500, Cancel);
        Assert.Equal(20, Count());
    }

    [Fact]
    public async Task An_http_app_gets_POST_job_name_with_a_Value_payload_as_json_and_a_bytes_payload_trimmed()
    {
        var appId = UniqueName.Create("jobs-http");
        var app = await HttpTestApp.StartAsync(appId);
        _started.Add(app);
        var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(appId, _resources.Directory) { AppPort = app.Port, AppProtocol = "http" }, Cancel);
        _started.Add(sidecar);
        await sidecar.WaitReadyAsync(Cancel);
        var grpc = sidecar.CreateGrpcClient();

        await grpc.ScheduleJobAsync(new ScheduleJobRequest
        {
            Job = new Job { Name = "as value", DueTime = "0s", Data = Any.Pack(Value.ForStruct(new Struct { Fields = { ["n"] = Value.ForNumber(1) } })) },
        }, cancellationToken: Cancel);
        await grpc.ScheduleJobAsync(new ScheduleJobRequest
        {
            Job = new Job { Name = "as bytes", DueTime = "0s", Data = new Any { TypeUrl = "dapr.io/schedule/jobpayload", Value = ByteString.CopyFromUtf8("  {\"k\":2}\n") } },
        }, cancellationToken: Cancel);

        var triggers = await app.WaitForAsync(r => r.Path.StartsWith("/job/", StringComparison.Ordinal), 2);
        var byPath = triggers.ToDictionary(t => t.Path);
        Assert.Equal("{\"n\":1}", byPath["/job/as%20value"].Text);
        Assert.Equal("{\"k\":2}", byPath["/job/as%20bytes"].Text);
        Assert.StartsWith("application/json", byPath["/job/as%20bytes"].Headers["content-type"], StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].DisposeAsync();
        }
        _resources.Dispose();
    }
}
