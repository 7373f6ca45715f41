using System.Text.Json;
using System.Text.Json.Nodes;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>Delivery to apps that run with app-protocol http: <c>/dapr/subscribe</c> discovery and POSTed CloudEvents.</summary>
public sealed class HttpPubSubContractTests(PubSubHarness harness) : IClassFixture<PubSubHarness>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private async Task<HttpTestApp> StartHttpSubscriberAsync(string topic, Func<Received, (int, string?)> onEvent, string? deadLetterTopic = null)
    {
        var appId = UniqueName.Create("http-sub");
        var app = harness.Track(await HttpTestApp.StartAsync(appId, a =>
        {
            // camelCase as Dapr.AspNetCore's MapSubscribeHandler writes it; daprd reads names case-insensitively.
            a.Subscriptions.Add(new JsonObject { ["pubsubName"] = PubSubHarness.PubSub, ["topic"] = topic, ["route"] = "events/main", ["deadLetterTopic"] = deadLetterTopic });
            if (deadLetterTopic is not null)
            {
                a.Subscriptions.Add(new JsonObject { ["pubsubname"] = PubSubHarness.PubSub, ["topic"] = deadLetterTopic, ["route"] = "events/dead" });
            }
            a.OnEvent = onEvent;
        }));
        await harness.StartSidecarAsync(new SidecarLaunch(appId, harness.Resources.Directory) { AppPort = app.Port, AppProtocol = "http" });
        return app;
    }

    [Fact]
    public async Task An_http_app_receives_the_stored_CloudEvent_as_application_cloudevents_json_with_the_pubsubname_header()
    {
        var topic = PubSubHarness.Topic("http-ce");
        var app = await StartHttpSubscriberAsync(topic, _ => (200, null));

        await harness.PublisherClient.PublishEventAsync(PubSubHarness.PubSub, topic, new { orderId = "o-1" }, Cancel);

        var received = (await app.WaitForAsync(r => r.Path == "/events/main"))[0];
        Assert.StartsWith("application/cloudevents+json", received.Headers["content-type"], StringComparison.Ordinal);
        Assert.Equal(PubSubHarness.PubSub, received.Headers["pubsubname"]);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", received.Headers["traceparent"]);
        var cloudEvent = JsonNode.Parse(received.Body)!;
        Assert.Equal("o-1", cloudEvent["data"]!["orderId"]!.GetValue<string>());
        Assert.Equal(harness.Publisher.AppId, cloudEvent["source"]!.GetValue<string>());
        Assert.Equal(topic, cloudEvent["topic"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(404, null)]
    [InlineData(200, """{"status":"DROP"}""")]
    public async Task A_404_or_a_DROP_status_sends_the_event_to_the_dead_letter_topic(int status, string? body)
    {
        var topic = PubSubHarness.Topic("http-drop");
        var app = await StartHttpSubscriberAsync(topic, r => r.Path == "/events/main" ? (status, body) : (200, null), deadLetterTopic: topic + "-dlq");

        await harness.PublisherClient.PublishEventAsync(PubSubHarness.PubSub, topic, new { orderId = "o-2" }, Cancel);

        var first = (await app.WaitForAsync(r => r.Path == "/events/main"))[0];
        var dead = (await app.WaitForAsync(r => r.Path == "/events/dead"))[0];
        Assert.Equal(JsonNode.Parse(first.Body)!["id"]!.GetValue<string>(), JsonNode.Parse(dead.Body)!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(200, """{"status":"RETRY"}""")]
    [InlineData(500, null)]
    [InlineData(200, """{"status":"retry-me"}""")]
    public async Task A_retriable_answer_without_a_resiliency_policy_is_not_redelivered_and_is_not_dead_lettered(int status, string? body)
    {
        var topic = PubSubHarness.Topic("http-retry");
        var app = await StartHttpSubscriberAsync(topic, r => r.Path == "/events/main" ? (status, body) : (200, null), deadLetterTopic: topic + "-dlq");

        await harness.PublisherClient.PublishEventAsync(PubSubHarness.PubSub, topic, new { orderId = "o-3" }, Cancel);

        await app.WaitForAsync(r => r.Path == "/events/main");
        // No retries without a policy; the exhausted (single) attempt goes to the dead-letter topic, as daprd does.
        await app.WaitForAsync(r => r.Path == "/events/dead");
        Assert.Single(await app.SettleAsync(r => r.Path == "/events/main", TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(200, "")]
    [InlineData(200, "not json")]
    [InlineData(204, null)]
    [InlineData(200, """{"status":"SUCCESS"}""")]
    public async Task Success_answers_acknowledge_without_redelivery(int status, string? body)
    {
        var topic = PubSubHarness.Topic("http-ok");
        var app = await StartHttpSubscriberAsync(topic, _ => (status, body), deadLetterTopic: topic + "-dlq");

        await harness.PublisherClient.PublishEventAsync(PubSubHarness.PubSub, topic, new { orderId = "o-4" }, Cancel);

        await app.WaitForAsync(r => r.Path == "/events/main");
        var settled = await app.SettleAsync(_ => true, TimeSpan.FromSeconds(1));
        Assert.Single(settled);
        Assert.DoesNotContain(settled, r => r.Path == "/events/dead");
    }
}
