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
        foreach (var (name, value) in message.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }
        AddToken(request);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(h => !InvocationHeaders.IsHopByHop(h.Key))
            .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v)))
            .ToList();
        return new InvokeResult((int)response.StatusCode, headers, body, response.Content.Headers.ContentType?.ToString());
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
        var items = await response.Content.ReadFromJsonAsync<List<SubscriptionJsonModel>>(SubscriptionJson, cancellationToken) ?? [];
        return items.Where(i => !string.IsNullOrEmpty(i.PubsubName) && !string.IsNullOrEmpty(i.Topic)).Select(i =>
        {
            var rules = (i.Routes?.Rules ?? []).Where(r => !string.IsNullOrEmpty(r.Path)).Select(r => (r.Match, r.Path!)).ToList();
            var fallback = i.Routes?.Default ?? i.Route;
            if (!string.IsNullOrEmpty(fallback))
            {
                rules.Add((null, fallback));
            }
            return new AppSubscription(i.PubsubName!, i.Topic!, rules, NullIfEmpty(i.DeadLetterTopic),
                i.Metadata ?? new Dictionary<string, string>());
        }).Where(s => s.Rules.Count > 0).ToList();
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

    private void AddToken(HttpRequestMessage request)
    {
        request.Headers.Remove(InvocationHeaders.ApiToken);
        if (appApiToken is not null)
        {
            request.Headers.TryAddWithoutValidation(InvocationHeaders.ApiToken, appApiToken);
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class SubscriptionJsonModel
    {
        public string? PubsubName { get; set; }

        public string? Topic { get; set; }

        public string? Route { get; set; }

        public RoutesJsonModel? Routes { get; set; }

        public Dictionary<string, string>? Metadata { get; set; }

        public string? DeadLetterTopic { get; set; }
    }

    private sealed class RoutesJsonModel
    {
        public List<RuleJsonModel>? Rules { get; set; }

        public string? Default { get; set; }
    }

    private sealed class RuleJsonModel
    {
        public string? Match { get; set; }

        public string? Path { get; set; }
    }
}
