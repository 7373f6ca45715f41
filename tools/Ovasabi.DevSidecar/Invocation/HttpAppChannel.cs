using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>The channel to an app that runs with <c>--app-protocol http</c>.</summary>
public sealed class HttpAppChannel(HttpClient client, Uri appBase, string? appApiToken, ILogger<HttpAppChannel> logger) : IAppChannel
{
    private static readonly JsonSerializerOptions SubscriptionJson = new(JsonSerializerDefaults.Web) { PropertyNameCaseInsensitive = true };

    public async Task<InvokeResult> InvokeAsync(InvokeMessage message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(message.Verb),
            InvocationMethod.ExactUri(appBase.GetLeftPart(UriPartial.Authority) + InvocationMethod.ToAppPath(message.Method) + message.QueryString));
        if (message.Body.Length > 0 || message.ContentType is not null)
        {
            request.Content = new ByteArrayContent(message.Body);
        }
        InvocationHeaders.CopyTo(request, message.Headers);
        AddToken(request);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await InvokeResult.FromResponseAsync(response, cancellationToken);
    }

    public async Task<DeliveryOutcome> DeliverAsync(EventDelivery delivery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(appBase, "/" + delivery.Path.TrimStart('/')))
        {
            Content = new ByteArrayContent(delivery.RawCloudEvent),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
        foreach (var (name, value) in delivery.Metadata)
        {
            if (!name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && !name.Equals("content-type", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
        AddToken(request);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryOutcome(DeliveryStatus.Retry, $"app unreachable: {e.Message}");
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new DeliveryOutcome(DeliveryStatus.Drop, "app answered 404", status);
            }
            if (!response.IsSuccessStatusCode)
            {
                return new DeliveryOutcome(DeliveryStatus.Retry, $"app answered {status}", status);
            }
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return ParseStatus(body) switch
            {
                null or "" or "SUCCESS" => DeliveryOutcome.Success,
                "DROP" => new DeliveryOutcome(DeliveryStatus.Drop, "app answered DROP", status),
                "RETRY" => new DeliveryOutcome(DeliveryStatus.Retry, "app answered RETRY", status),
                var other => new DeliveryOutcome(DeliveryStatus.Retry, $"unknown status '{other}'", status),
            };
        }
    }

    /// <summary>The <c>status</c> of a JSON response body; bodies that are not JSON objects count as success.</summary>
    private static string? ParseStatus(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(body) is JsonObject json && json.TryGetPropertyValue("status", out var status) && status is JsonValue value
                ? value.ToString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<AppSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(new Uri(appBase, "/dapr/subscribe"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }
        if (!response.IsSuccessStatusCode)
        {
            logger.LogWarning("GET /dapr/subscribe answered {Status}; no programmatic subscriptions", (int)response.StatusCode);
            return [];
        }
        // The JSON names match Subscription resources' spec, read case-insensitively (pubsubName or pubsubname).
        var items = await response.Content.ReadFromJsonAsync<List<Resources.SubscriptionSpecModel>>(SubscriptionJson, cancellationToken) ?? [];
        return items.Where(i => !string.IsNullOrEmpty(i.Pubsubname) && !string.IsNullOrEmpty(i.Topic))
            .Select(AppSubscription.From)
            .Where(s => s.Rules.Count > 0)
            .ToList();
    }

    public async Task<bool> IsHealthyAsync(string healthPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var response = await client.GetAsync(new Uri(appBase, healthPath), cts.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// daprd's HTTP trigger: <c>POST /job/&lt;name&gt;</c> with the payload as JSON (a <c>google.protobuf.Value</c>
    /// rendered as compact JSON, any other payload's bytes trimmed); 2xx and 404 count as delivered.
    /// </summary>
    public async Task<JobTriggerOutcome> TriggerJobAsync(string name, Google.Protobuf.WellKnownTypes.Any? data, CancellationToken cancellationToken)
    {
        var body = data is null ? []
            : data.Is(Google.Protobuf.WellKnownTypes.Value.Descriptor)
                ? System.Text.Encoding.UTF8.GetBytes(JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(data.Unpack<Google.Protobuf.WellKnownTypes.Value>()))?.ToJsonString() ?? "null")
                : System.Text.Encoding.UTF8.GetBytes(data.Value.ToStringUtf8().Trim());
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(appBase, "/job/" + Uri.EscapeDataString(name)))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        AddToken(request);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound
                ? new JobTriggerOutcome(true, response.IsSuccessStatusCode ? null : "app answered 404")
                : new JobTriggerOutcome(false, $"app answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException e)
        {
            return new JobTriggerOutcome(false, $"app unreachable: {e.Message}");
        }
    }

    private void AddToken(HttpRequestMessage request)
    {
        request.Headers.Remove(InvocationHeaders.ApiToken);
        if (appApiToken is not null)
        {
            request.Headers.TryAddWithoutValidation(InvocationHeaders.ApiToken, appApiToken);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

}
