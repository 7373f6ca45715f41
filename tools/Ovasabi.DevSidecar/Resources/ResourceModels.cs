namespace Ovasabi.DevSidecar.Resources;

// YAML shapes of the Dapr resources the sidecar reads (CRD schemas: shared/dapr-crds). Unknown fields are ignored,
// as the Kubernetes decoder daprd uses ignores them.

public class ObjectMeta
{
    public string? Name { get; set; }

    public string? Namespace { get; set; }
}

public class ResourceHeader
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public ObjectMeta? Metadata { get; set; }
}

public sealed class ComponentResource : ResourceHeader
{
    public ComponentSpecModel? Spec { get; set; }

    public ComponentAuthModel? Auth { get; set; }

    public List<string>? Scopes { get; set; }
}

public sealed class ComponentSpecModel
{
    public string? Type { get; set; }

    public string? Version { get; set; }

    public string? InitTimeout { get; set; }

    public bool? IgnoreErrors { get; set; }

    public List<MetadataItemModel>? Metadata { get; set; }
}

public sealed class MetadataItemModel
{
    public string? Name { get; set; }

    public string? Value { get; set; }

    public SecretKeyRefModel? SecretKeyRef { get; set; }

    public string? EnvRef { get; set; }
}

public sealed class SecretKeyRefModel
{
    public string? Name { get; set; }

    public string? Key { get; set; }
}

public sealed class ComponentAuthModel
{
    public string? SecretStore { get; set; }
}

public sealed class SubscriptionResource : ResourceHeader
{
    public SubscriptionSpecModel? Spec { get; set; }

    public List<string>? Scopes { get; set; }
}

public sealed class SubscriptionSpecModel
{
    public string? Pubsubname { get; set; }

    public string? Topic { get; set; }

    /// <summary>v1alpha1 only.</summary>
    public string? Route { get; set; }

    public RoutesModel? Routes { get; set; }

    public Dictionary<string, string>? Metadata { get; set; }

    public string? DeadLetterTopic { get; set; }
}

public sealed class RoutesModel
{
    public List<RuleModel>? Rules { get; set; }

    public string? Default { get; set; }
}

public sealed class RuleModel
{
    public string? Match { get; set; }

    public string? Path { get; set; }
}

public sealed class ResiliencyResource : ResourceHeader
{
    public ResiliencySpecModel? Spec { get; set; }

    public List<string>? Scopes { get; set; }
}

public sealed class ResiliencySpecModel
{
    public PoliciesModel? Policies { get; set; }

    public TargetsModel? Targets { get; set; }
}

public sealed class PoliciesModel
{
    public Dictionary<string, string>? Timeouts { get; set; }

    public Dictionary<string, RetryModel>? Retries { get; set; }

    public Dictionary<string, CircuitBreakerModel>? CircuitBreakers { get; set; }
}

public sealed class RetryModel
{
    public string? Policy { get; set; }

    public string? Duration { get; set; }

    public string? MaxInterval { get; set; }

    public int? MaxRetries { get; set; }

    public RetryMatchingModel? Matching { get; set; }
}

public sealed class RetryMatchingModel
{
    public string? HttpStatusCodes { get; set; }

    public string? GRPCStatusCodes { get; set; }
}

public sealed class CircuitBreakerModel
{
    public int? MaxRequests { get; set; }

    public string? Interval { get; set; }

    public string? Timeout { get; set; }

    public string? Trip { get; set; }
}

public sealed class TargetsModel
{
    public Dictionary<string, PolicyRefsModel>? Apps { get; set; }

    public Dictionary<string, ComponentTargetModel>? Components { get; set; }
}

public sealed class PolicyRefsModel
{
    public string? Timeout { get; set; }

    public string? Retry { get; set; }

    public string? CircuitBreaker { get; set; }
}

public sealed class ComponentTargetModel
{
    public PolicyRefsModel? Outbound { get; set; }

    public PolicyRefsModel? Inbound { get; set; }
}

public sealed class ConfigurationResource : ResourceHeader
{
    public ConfigurationSpecModel? Spec { get; set; }
}

public sealed class ConfigurationSpecModel
{
    public TracingModel? Tracing { get; set; }

    public MetricModel? Metric { get; set; }

    public NameResolutionModel? NameResolution { get; set; }

    public AccessControlModel? AccessControl { get; set; }
}

public sealed class TracingModel
{
    public string? SamplingRate { get; set; }

    public bool? Stdout { get; set; }

    public OtelModel? Otel { get; set; }

    public ZipkinModel? Zipkin { get; set; }
}

public sealed class OtelModel
{
    public string? EndpointAddress { get; set; }

    public bool? IsSecure { get; set; }

    public string? Protocol { get; set; }
}

public sealed class ZipkinModel
{
    public string? EndpointAddress { get; set; }
}

public sealed class MetricModel
{
    public bool? Enabled { get; set; }
}

public sealed class NameResolutionModel
{
    public string? Component { get; set; }

    public string? Version { get; set; }

    public Dictionary<string, string>? Configuration { get; set; }
}

public sealed class AccessControlModel
{
    public string? DefaultAction { get; set; }

    public string? TrustDomain { get; set; }

    public List<AppPolicyModel>? Policies { get; set; }
}

public sealed class AppPolicyModel
{
    public string? AppId { get; set; }

    public string? DefaultAction { get; set; }

    public string? TrustDomain { get; set; }

    public string? Namespace { get; set; }

    public List<OperationPolicyModel>? Operations { get; set; }
}

public sealed class OperationPolicyModel
{
    public string? Name { get; set; }

    public List<string>? HttpVerb { get; set; }

    public string? Action { get; set; }
}
