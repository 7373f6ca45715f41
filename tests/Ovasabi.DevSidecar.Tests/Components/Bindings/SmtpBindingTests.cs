using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Bindings;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

/// <summary>What bindings.smtp refuses at start, with daprd's texts (sending is covered by SmtpBindingContractTests).</summary>
public sealed class SmtpBindingTests
{
    private const string HostAndPort = "smtp binding error: host and port fields are required in metadata";
    private const string UserAndPassword = "smtp binding error: both user and password fields are required in metadata";

    [Theory]
    [InlineData("host", HostAndPort, "port=25")]
    [InlineData("port", HostAndPort, "host=mail.example.test")]
    [InlineData("port", HostAndPort, "host=mail.example.test", "port=0")]
    [InlineData("password", UserAndPassword, "host=mail.example.test", "port=587", "user=me")]
    [InlineData("user", UserAndPassword, "host=mail.example.test", "port=587", "password=secret")]
    [InlineData("port", "cannot parse 'port' as int: strconv.ParseInt: parsing \"smtp\": invalid syntax", "host=h", "port=smtp")]
    [InlineData("priority", "cannot parse 'priority' as int: strconv.ParseInt: parsing \"urgent\": invalid syntax", "host=h", "port=25", "priority=urgent")]
    [InlineData("priority", "smtp binding error:  priority value must be between 1 (highest) and 5 (lowest)", "host=h", "port=25", "priority=6")]
    public void Constructor_WithIncompleteOrInvalidSettings_IsRefusedWithDaprdsMessage(string field, string message, params string[] metadata)
    {
        var pairs = metadata.Select(m => m.Split('=', 2)).Select(p => (p[0], p[1])).ToArray();

        var error = Assert.Throws<ComponentConfigurationException>(() => new SmtpBinding(Definition("bindings.smtp", pairs), Context()));

        Assert.Equal(field, error.Field);
        Assert.EndsWith($"metadata '{field}': {message}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("25")]
    [InlineData("0x19")]
    public async Task Constructor_WithHostAndPortOnly_IsAccepted(string port)
    {
        await using var binding = new SmtpBinding(Definition("bindings.smtp", ("host", "mail.example.test"), ("port", port)), Context());

        Assert.Equal(["create"], binding.Operations);
    }
}
