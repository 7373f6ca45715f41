using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Bindings;
using Ovasabi.DevSidecar.Components.Secrets;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

public sealed class ComponentCatalogRegistrationTests
{
    [Theory]
    [InlineData("bindings.postgresql", typeof(PostgresBinding), "connectionString=host=localhost")]
    [InlineData("bindings.postgres", typeof(PostgresBinding), "connectionString=host=localhost")]
    [InlineData("bindings.aws.s3", typeof(S3Binding), "bucket=b", "region=us-east-1")]
    [InlineData("bindings.localstorage", typeof(LocalStorageBinding), "rootPath=files")]
    [InlineData("bindings.http", typeof(HttpBinding), "url=http://127.0.0.1:8080")]
    [InlineData("bindings.smtp", typeof(SmtpBinding), "host=127.0.0.1", "port=25")]
    [InlineData("secretstores.local.file", typeof(LocalFileSecretStore), "secretsFile=secrets.json")]
    public async Task Type_IsRegisteredAsV1AndCreatesItsComponent(string type, Type implementation, params string[] metadata)
    {
        Assert.True(ComponentCatalog.TryGet(type, out var entry));
        var pairs = metadata.Select(m => m.Split('=', 2)).Select(p => (p[0], p[1])).ToArray();

        await using var component = entry.Create(Definition(type, pairs), Context());

        Assert.Contains("v1", entry.Versions);
        Assert.IsType(implementation, component);
    }
}
