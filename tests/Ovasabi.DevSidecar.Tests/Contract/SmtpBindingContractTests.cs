using System.Text;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// One sidecar with bindings.smtp components in front of a maildev of its own (which requires AUTH), each set up
/// for one behaviour.
/// </summary>
public sealed class SmtpBindingSidecar : SidecarFixture
{
    public const string Mail = "mail";
    public const string Bare = "mail-bare";
    public const string Anonymous = "mail-anonymous";
    public const string WrongPassword = "mail-wrong-password";
    public const string Down = "mail-down";

    public const string From = "Ovasabi <no-reply@ovasabi.test>";
    public const string To = "ops@ovasabi.test";

    public MaildevServer Maildev { get; } = new();

    public SidecarProcess Sidecar { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    /// <summary>The port of <see cref="Down"/>, where nothing listens.</summary>
    public int DownPort { get; } = FreePort.Next();

    protected override async Task StartAsync()
    {
        Own(Maildev);
        await Maildev.InitializeAsync();
        var server = new Dictionary<string, string> { ["host"] = Maildev.Host, ["port"] = $"{Maildev.Port}" };
        var credentials = new Dictionary<string, string>(server) { ["user"] = Maildev.User, ["password"] = Maildev.Password };
        Resources
            .Component(Mail, "bindings.smtp", new Dictionary<string, string>(credentials)
            {
                ["emailFrom"] = From,
                ["emailTo"] = To,
                ["subject"] = "component subject",
                // daprd reads the priority in exactly the spelling "priority"; this one leaves the default, 3.
                ["Priority"] = "1",
            })
            .Component(Bare, "bindings.smtp", credentials)
            .Component(Anonymous, "bindings.smtp", new Dictionary<string, string>(server)
            {
                ["emailFrom"] = From,
                ["emailTo"] = To,
                ["subject"] = "anonymous",
            })
            .Component(WrongPassword, "bindings.smtp", new Dictionary<string, string>(credentials)
            {
                ["password"] = "not the password",
                ["emailFrom"] = From,
                ["emailTo"] = To,
                ["subject"] = "wrong password",
            })
            .Component(Down, "bindings.smtp", new Dictionary<string, string>
            {
                ["host"] = "127.0.0.1",
                ["port"] = $"{DownPort}",
                ["emailFrom"] = From,
                ["emailTo"] = To,
                ["subject"] = "nobody listens",
            });
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("smtp-binding"), Resources.Directory)));
        Client = ClientOf(Sidecar);
    }
}

/// <summary>bindings.smtp through the sidecar's InvokeBinding, read back from maildev's REST API.</summary>
public sealed class SmtpBindingContractTests(SmtpBindingSidecar fixture) : IClassFixture<SmtpBindingSidecar>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private MaildevServer Maildev => fixture.Maildev;

    private Task<BindingResponse> SendAsync(string binding, string body, Dictionary<string, string> metadata) =>
        fixture.Client.InvokeBindingAsync(new BindingRequest(binding, "create") { Data = Encoding.UTF8.GetBytes(body) }.With(metadata), Cancel);

    private async Task<RpcException> FailsAsync(string binding, Dictionary<string, string> metadata)
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => SendAsync(binding, "\"body\"", metadata));
        var rpc = Assert.IsType<RpcException>(error.InnerException);
        Assert.Equal(StatusCode.Internal, rpc.StatusCode);
        return rpc;
    }

    private static string Subject(string stem) => $"{stem} {Guid.NewGuid():N}";

    private static string[] Addresses(JsonElement mail, string field) =>
        [.. mail.GetProperty(field).EnumerateArray().Select(a => a.GetProperty("address").GetString()!)];

    /// <summary>The header lines of a raw message (before the first blank line), unfolded.</summary>
    private static string[] HeaderLines(string source) =>
        source.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", 2)[0].Replace("\n ", " ", StringComparison.Ordinal).Replace("\n\t", " ", StringComparison.Ordinal).Split('\n');

    [Fact]
    public async Task A_mail_arrives_as_one_html_part_with_its_recipients_split_on_semicolons_and_bcc_only_in_the_envelope()
    {
        var subject = Subject("welcome");

        var response = await SendAsync(SmtpBindingSidecar.Mail, JsonSerializer.Serialize("<h1>Hello</h1><p>Grüße</p>"), new()
        {
            ["emailTo"] = "ann@example.test;Bob Stone <bob@example.test>",
            ["emailCC"] = "carol@example.test",
            ["emailBCC"] = "dave@example.test;ann@example.test",
            ["subject"] = subject,
        });

        Assert.True(response.Data.IsEmpty);
        Assert.Empty(response.Metadata);
        var mail = await Maildev.WaitForMailAsync(subject, Cancel);
        Assert.Equal("no-reply@ovasabi.test", Addresses(mail, "from")[0]);
        Assert.Equal("Ovasabi", mail.GetProperty("from")[0].GetProperty("name").GetString());
        Assert.Equal(["ann@example.test", "bob@example.test"], Addresses(mail, "to"));
        Assert.Equal("Bob Stone", mail.GetProperty("to")[1].GetProperty("name").GetString());
        Assert.Equal(["carol@example.test"], Addresses(mail, "cc"));
        Assert.Equal(["dave@example.test"], Addresses(mail, "calculatedBcc"));
        Assert.Equal(["ann@example.test", "bob@example.test", "carol@example.test", "dave@example.test"],
            mail.GetProperty("envelope").GetProperty("to").EnumerateArray().Select(a => a.GetProperty("address").GetString()));
        Assert.Equal("<h1>Hello</h1><p>Grüße</p>", mail.GetProperty("html").GetString()!.TrimEnd());
        var headers = HeaderLines(await Maildev.SourceAsync(mail.GetProperty("id").GetString()!, Cancel));
        Assert.Contains("X-priority: 3", headers);
        Assert.Contains(headers, h => h.Equals("Content-Type: text/html; charset=UTF-8", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("Content-Transfer-Encoding: quoted-printable", headers);
        Assert.Contains(headers, h => h.StartsWith("Date: ", StringComparison.Ordinal));
        Assert.Contains(headers, h => h.Equals("MIME-Version: 1.0", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(headers, h => h.StartsWith("Bcc:", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(headers, h => h.StartsWith("Message-ID:", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Request_metadata_overrides_the_component_for_that_request_only_and_an_unquoted_body_is_sent_as_it_is()
    {
        var overridden = Subject("overridden");
        var plain = Subject("plain");

        await SendAsync(SmtpBindingSidecar.Mail, "\"first\"", new()
        {
            ["emailFrom"] = "alerts@ovasabi.test",
            ["emailTo"] = "oncall@example.test",
            ["subject"] = overridden,
            ["priority"] = "1",
        });
        await SendAsync(SmtpBindingSidecar.Mail, "<p>not a quoted string</p>", new() { ["subject"] = plain });

        var first = await Maildev.WaitForMailAsync(overridden, Cancel);
        var second = await Maildev.WaitForMailAsync(plain, Cancel);
        Assert.Equal(("alerts@ovasabi.test", "oncall@example.test"), (Addresses(first, "from")[0], Addresses(first, "to")[0]));
        Assert.Contains("X-priority: 1", HeaderLines(await Maildev.SourceAsync(first.GetProperty("id").GetString()!, Cancel)));
        Assert.Equal(("no-reply@ovasabi.test", SmtpBindingSidecar.To), (Addresses(second, "from")[0], Addresses(second, "to")[0]));
        Assert.Equal(("first", "<p>not a quoted string</p>"), (first.GetProperty("html").GetString()!.TrimEnd(), second.GetProperty("html").GetString()!.TrimEnd()));
        Assert.Contains("X-priority: 3", HeaderLines(await Maildev.SourceAsync(second.GetProperty("id").GetString()!, Cancel)));
    }

    [Theory]
    [InlineData("emailFrom", "", "")]
    [InlineData("emailTo", "a@ovasabi.test", "")]
    [InlineData("subject", "a@ovasabi.test", "b@example.test")]
    public async Task A_missing_emailFrom_emailTo_or_subject_fails_with_daprds_message(string missing, string from, string to)
    {
        var error = await FailsAsync(SmtpBindingSidecar.Bare, new() { ["emailFrom"] = from, ["emailTo"] = to });

        Assert.Equal($"error invoking output binding mail-bare: smtp binding error: {missing} property not supplied in configuration- or request-metadata",
            error.Status.Detail);
    }

    [Theory]
    [InlineData("9", "smtp binding error:  priority value must be between 1 (highest) and 5 (lowest)")]
    [InlineData("0", "smtp binding error:  priority value must be between 1 (highest) and 5 (lowest)")]
    [InlineData("high", "strconv.Atoi: parsing \"high\": invalid syntax")]
    public async Task A_priority_that_is_not_1_to_5_fails_with_daprds_message(string priority, string message)
    {
        var error = await FailsAsync(SmtpBindingSidecar.Mail, new() { ["priority"] = priority });

        Assert.Equal($"error invoking output binding mail: {message}", error.Status.Detail);
    }

    [Fact]
    public async Task An_address_that_does_not_parse_fails_once_connected_with_gomails_message()
    {
        var error = await FailsAsync(SmtpBindingSidecar.Mail, new() { ["emailTo"] = "a@example.test,b@example.test" });

        Assert.Equal("error invoking output binding mail: error from smtp binding, sending email failed: gomail: could not send email 1: "
            + "gomail: invalid address \"a@example.test,b@example.test\": mail: expected single address", error.Status.Detail);
    }

    [Fact]
    public async Task A_server_that_is_down_fails_with_Internal_and_the_dial_error()
    {
        var error = await FailsAsync(SmtpBindingSidecar.Down, []);

        Assert.Equal("error invoking output binding mail-down: error from smtp binding, sending email failed: "
            + $"dial tcp 127.0.0.1:{fixture.DownPort}: connect: connection refused", error.Status.Detail);
        Assert.Equal("ERR_INVOKE_OUTPUT_BINDING", Rpc.Reason(error));
    }

    [Fact]
    public async Task A_server_that_requires_AUTH_refuses_a_component_without_credentials_with_its_reply()
    {
        var error = await FailsAsync(SmtpBindingSidecar.Anonymous, []);

        Assert.Equal("error invoking output binding mail-anonymous: error from smtp binding, sending email failed: gomail: could not send email 1: "
            + "530 Error: authentication Required", error.Status.Detail);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_the_servers_reply_to_AUTH()
    {
        var error = await FailsAsync(SmtpBindingSidecar.WrongPassword, []);

        Assert.Equal("error invoking output binding mail-wrong-password: error from smtp binding, sending email failed: 535 Invalid username or password",
            error.Status.Detail);
    }
}
