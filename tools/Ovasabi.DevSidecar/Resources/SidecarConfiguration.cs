namespace Ovasabi.DevSidecar.Resources;

/// <summary>The Dapr Configuration resource given with <c>--config</c> (tracing, metrics, name resolution, access control).</summary>
public sealed class SidecarConfiguration
{
    public static readonly SidecarConfiguration Default = new(new ConfigurationSpecModel(), null);

    private SidecarConfiguration(ConfigurationSpecModel spec, string? file)
    {
        Spec = spec;
        File = file;
    }

    public ConfigurationSpecModel Spec { get; }

    public string? File { get; }

    public static SidecarConfiguration Load(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return Default;
        }
        if (!System.IO.File.Exists(path))
        {
            throw new ResourceException(path, null, "configuration file not found");
        }
        var documents = YamlDocuments.Split(path, System.IO.File.ReadAllText(path)).ToList();
        foreach (var document in documents)
        {
            var header = document.Read<ResourceHeader>();
            if (header.Kind == "Configuration")
            {
                if (header.ApiVersion != "dapr.io/v1alpha1")
                {
                    throw new ResourceException(path, "apiVersion", $"'{header.ApiVersion}' is not dapr.io/v1alpha1");
                }
                var configuration = new SidecarConfiguration(document.Read<ConfigurationResource>().Spec ?? new(), path);
                configuration.Validate();
                return configuration;
            }
        }
        throw new ResourceException(path, "kind", "no Configuration resource in the file");
    }

    /// <summary>Sampling rate between 0 and 1 (daprd: a string; empty means no sampling).</summary>
    public double SamplingRate =>
        double.TryParse(Spec.Tracing?.SamplingRate, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate)
            ? Math.Clamp(rate, 0, 1)
            : 0;

    public bool MetricsEnabled => Spec.Metric?.Enabled ?? true;

    private void Validate()
    {
        var rate = Spec.Tracing?.SamplingRate;
        if (!string.IsNullOrEmpty(rate) && !double.TryParse(rate, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            throw new ResourceException(File!, "spec.tracing.samplingRate", $"'{rate}' is not a number");
        }
        var resolver = Spec.NameResolution?.Component;
        if (!string.IsNullOrEmpty(resolver) && resolver != "sqlite")
        {
            throw new ResourceException(File!, "spec.nameResolution.component",
                $"name resolution '{resolver}' is not supported by the dev sidecar (use sqlite, or leave it out for the local default)");
        }
        // daprd refuses to start when an app policy lacks its app ID, trust domain or namespace (RT:pkg/acl/acl.go).
        var incomplete = (Spec.AccessControl?.Policies ?? []).Where(p => string.IsNullOrEmpty(p.AppId) || string.IsNullOrEmpty(p.TrustDomain) || string.IsNullOrEmpty(p.Namespace)).ToList();
        if (incomplete.Count > 0)
        {
            throw new ResourceException(File!, "spec.accessControl.policies",
                $"invalid access control spec: every policy needs appId, trustDomain and namespace (incomplete: {string.Join(", ", incomplete.Select(p => p.AppId is { Length: > 0 } id ? id : "<no appId>"))})");
        }
        foreach (var action in new[] { Spec.AccessControl?.DefaultAction }.Concat(Spec.AccessControl?.Policies?.Select(p => p.DefaultAction) ?? []))
        {
            if (!string.IsNullOrEmpty(action) && action is not ("allow" or "deny"))
            {
                throw new ResourceException(File!, "spec.accessControl", $"action '{action}' must be allow or deny");
            }
        }
    }
}
