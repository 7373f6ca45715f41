using System.Security.Cryptography;
using System.Text;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.UnitTests;

public sealed class WebhookTests
{
    [Fact]
    public void The_signature_matches_the_Standard_Webhooks_test_vector()
    {
        var key = Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        var header = WebhookSignatures.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""u8, [key]);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", header);
    }

    [Fact]
    public void Two_keys_give_two_space_separated_signatures_newest_first()
    {
        byte[] newer = [1, 2, 3], older = [4, 5, 6];

        var header = WebhookSignatures.Sign("id", 1, "{}"u8, [newer, older]);

        Assert.Equal([WebhookSignatures.Sign("id", 1, "{}"u8, [newer]), WebhookSignatures.Sign("id", 1, "{}"u8, [older])], header.Split(' '));
    }

    [Fact]
    public void A_secret_is_whsec_and_the_base64_of_32_random_bytes()
    {
        var key = WebhookSignatures.NewKey();

        var secret = WebhookSignatures.Secret(key);

        Assert.Equal(key, Convert.FromBase64String(secret["whsec_".Length..]));
        Assert.NotEqual(key, WebhookSignatures.NewKey());
    }

    [Fact]
    public void A_sealed_secret_opens_with_the_same_key_and_not_with_another_nor_once_altered()
    {
        var box = new SecretBox(RandomNumberGenerator.GetBytes(32));
        var secret = Encoding.UTF8.GetBytes("signing key");

        var sealedBytes = box.Seal(secret);

        Assert.Equal(secret, box.Open(sealedBytes));
        Assert.NotEqual(box.Seal(secret), sealedBytes);
        Assert.ThrowsAny<CryptographicException>(() => new SecretBox(RandomNumberGenerator.GetBytes(32)).Open(sealedBytes));
        sealedBytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => box.Open(sealedBytes));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/hooks/user-1")]
    [InlineData("/a.b_c~d/e-f")]
    public void A_path_of_safe_characters_is_accepted(string path)
    {
        var validator = new Validator();
        WebhookRules.Path(validator, "path", path);
        validator.ThrowIfInvalid();
    }

    [Theory]
    [InlineData("")]
    [InlineData("hooks")]
    [InlineData("/a/../b")]
    [InlineData("/a/./b")]
    [InlineData("/..")]
    [InlineData("/a..b")]
    [InlineData("/a?b=c")]
    [InlineData("/a#b")]
    [InlineData("/a b")]
    [InlineData("/a%2e%2e")]
    [InlineData("//evil.example/x@")]
    public void A_path_with_a_query_a_fragment_an_escape_or_a_dot_segment_is_refused(string path)
    {
        var validator = new Validator();
        WebhookRules.Path(validator, "path", path);
        Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid);
    }

    [Fact]
    public void An_endpoint_without_categories_receives_everything_but_security_and_one_with_categories_only_those()
    {
        var all = new WebhookEndpointView(Guid.NewGuid(), Guid.NewGuid(), "webhook", "/", [], DateTimeOffset.UtcNow, null);
        var security = all with { Categories = ["security"] };

        Assert.Equal(Category.All.Where(c => c != Category.Security), Category.All.Where(all.Receives));
        Assert.Equal([Category.Security], Category.All.Where(security.Receives));
    }

    [Fact]
    public void A_binding_the_deployment_does_not_list_is_refused_and_says_when_there_are_none()
    {
        var validator = new Validator();
        WebhookRules.Binding(validator, "binding", "email", ["webhook"]);
        WebhookRules.Binding(validator, "other", "webhook", []);
        var error = Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid);
        Assert.Contains("must be one of webhook", error.Message, StringComparison.Ordinal);
        Assert.Contains("this deployment has none", error.Message, StringComparison.Ordinal);
    }
}
