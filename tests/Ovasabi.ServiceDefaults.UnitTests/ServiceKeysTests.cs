using Microsoft.Extensions.Configuration;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.UnitTests;

public sealed class ServiceKeysTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static readonly (string, string) Database = ("ConnectionStrings:Database", "Host=db;Database=notification;Password=secret");

    [Fact]
    public void Without_the_setting_every_replica_derives_the_same_key_and_each_purpose_its_own()
    {
        var once = ServiceKeys.From(Config(Database), "Notification:UnsubscribeKey", "ovasabi.notification.unsubscribe-key");
        Assert.Equal(once, ServiceKeys.From(Config(Database), "Notification:UnsubscribeKey", "ovasabi.notification.unsubscribe-key"));
        Assert.NotEqual(once, ServiceKeys.From(Config(Database), "Notification:AddressKey", "ovasabi.notification.address-key"));
        Assert.Equal(ServiceKeys.MinBytes, once.Length);
    }

    [Fact]
    public void A_configured_key_is_used_as_it_is_and_a_short_one_is_refused_naming_the_setting()
    {
        var key = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        Assert.Equal(key, ServiceKeys.From(Config(Database, ("Service:PageTokenKey", Convert.ToBase64String(key))), "Service:PageTokenKey", "p"));
        var refused = Assert.Throws<InvalidOperationException>(() =>
            ServiceKeys.From(Config(Database, ("Service:PageTokenKey", Convert.ToBase64String(new byte[16]))), "Service:PageTokenKey", "p"));
        Assert.StartsWith("Service:PageTokenKey: must be at least 32 bytes", refused.Message, StringComparison.Ordinal);
    }
}
