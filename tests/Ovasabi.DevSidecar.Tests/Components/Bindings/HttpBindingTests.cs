using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Bindings;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

/// <summary>bindings.http's settings: what it refuses at start, and its TLS options against a real HTTPS server.</summary>
public sealed class HttpBindingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("100Mi", 104857600L)]
    [InlineData("64k", 64000L)]
    [InlineData("10Ki", 10240L)]
    [InlineData("4096", 4096L)]
    [InlineData("1e3", 1000L)]
    [InlineData("0.5Ki", 512L)]
    [InlineData("0", 0L)]
    [InlineData("-1", -1L)]
    public void ParseQuantity_ByteSizes_AreReadAsKubernetesQuantities(string text, long bytes)
    {
        Assert.Equal(bytes, Sizes.TryParseQuantity(text));
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("1.5")]
    [InlineData("10KB")]
    [InlineData("1Ki ")]
    public void Constructor_MaxResponseBodySizeThatIsNotAWholeByteQuantity_IsRefused(string size)
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new HttpBinding(Definition("bindings.http", ("url", "http://x"), ("maxResponseBodySize", size)), Context()));

        Assert.Equal("maxResponseBodySize", error.Field);
        Assert.Contains("invalid value for maxResponseBodySize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnknownRenegotiationValue_IsRefusedWithDaprdsMessage()
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new HttpBinding(Definition("bindings.http", ("url", "https://x"), ("MTLSRenegotiation", "Sometimes")), Context()));

        Assert.EndsWith("invalid renegotiation value: Sometimes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RootCaThatIsNeitherPemNorAFile_IsRefusedWithDaprdsMessage()
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new HttpBinding(Definition("bindings.http", ("url", "https://x"), ("mtlsRootCA", "no-such-ca.pem")), Context()));

        Assert.Equal("MTLSRootCA", error.Field);
        Assert.Contains("provided \"MTLSRootCA\" value is neither a valid file path or nor a valid pem encoded string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Https_TrustsOnlyTheRootCaGivenAndPresentsTheClientCertificateFromFiles()
    {
        using var ca = Certificates.Authority();
        using var server = Certificates.Issue(ca, "CN=127.0.0.1", serverName: "127.0.0.1");
        using var client = Certificates.Issue(ca, "CN=ovasabi-client");
        await using var https = await HttpsServer.StartAsync(server, ca);
        using var files = new TempDirectory();
        File.WriteAllText(Path.Combine(files.Path, "client.crt"), client.ExportCertificatePem());
        File.WriteAllText(Path.Combine(files.Path, "client.key"), client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using var trusting = new HttpBinding(Definition("bindings.http",
            ("url", https.Url), ("MTLSRootCA", ca.ExportCertificatePem()), ("MTLSClientCert", "client.crt"), ("MTLSClientKey", "client.key")),
            Context(files.Path));
        await using var untrusting = new HttpBinding(Definition("bindings.http", ("url", https.Url)), Context());

        var response = await trusting.InvokeAsync(Request("get"), Ct);
        var refused = await Assert.ThrowsAsync<BindingException>(() => untrusting.InvokeAsync(Request("get"), Ct));

        Assert.Equal("client CN=ovasabi-client", Encoding.UTF8.GetString(response.Data));
        Assert.StartsWith($"Get \"{https.Url}\": ", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A CA and certificates it issues, with ECDSA keys (quick to make).</summary>
    private static class Certificates
    {
        public static X509Certificate2 Authority()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=ovasabi test CA", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        }

        public static X509Certificate2 Issue(X509Certificate2 authority, string subject, string? serverName = null)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid(serverName is null ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
            if (serverName is not null)
            {
                var names = new SubjectAlternativeNameBuilder();
                names.AddIpAddress(IPAddress.Parse(serverName));
                request.CertificateExtensions.Add(names.Build());
            }
            using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(30), RandomNumberGenerator.GetBytes(8));
            return issued.CopyWithPrivateKey(key);
        }
    }

    /// <summary>A loopback HTTPS server that requires a client certificate issued by the CA and answers with its subject.</summary>
    private sealed class HttpsServer(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url { get; } = url;

        public static async Task<HttpsServer> StartAsync(X509Certificate2 certificate, X509Certificate2 authority)
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (client, _, _) => client.Issuer == authority.Subject;
            })));
            var app = builder.Build();
            app.Run(context => context.Response.WriteAsync($"client {context.Connection.ClientCertificate?.Subject}"));
            await app.StartAsync(Ct);
            return new HttpsServer(app, $"https://127.0.0.1:{port}");
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
