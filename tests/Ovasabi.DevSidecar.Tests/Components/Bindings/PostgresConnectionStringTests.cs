using Npgsql;
using Ovasabi.DevSidecar.Components.Bindings;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

public sealed class PostgresConnectionStringTests
{
    [Fact]
    public void KeywordValue_WithQuotedValuesAndPoolSettings_MapsToNpgsql()
    {
        var parsed = PostgresConnectionString.Parse(
            @"host=db.local port=6543 user=app password='it\'s quoted' dbname=orders sslmode=require connect_timeout=7 pool_max_conns=9 search_path=app");

        var settings = parsed.Builder;
        Assert.Equal("db.local", settings.Host);
        Assert.Equal(6543, settings.Port);
        Assert.Equal("app", settings.Username);
        Assert.Equal("it's quoted", settings.Password);
        Assert.Equal("orders", settings.Database);
        Assert.Equal(SslMode.Require, settings.SslMode);
        Assert.Equal(7, settings.Timeout);
        Assert.Equal(9, settings.MaxPoolSize);
        Assert.Equal("app", settings.SearchPath);
        Assert.True(parsed.HasConnectTimeout);
        Assert.False(parsed.HasCommandTimeout);
    }

    [Fact]
    public void KeywordValue_BackslashEscapedQuote_IsPartOfTheValue()
    {
        var parsed = PostgresConnectionString.Parse(@"host=h password='a\'b c'");

        Assert.Equal("a'b c", parsed.Builder.Password);
    }

    [Fact]
    public void Url_WithEncodedCredentialsSeveralHostsAndParameters_MapsToNpgsql()
    {
        var parsed = PostgresConnectionString.Parse("postgresql://us%40er:p%3Ass@h1:5433,h2:5434/my%20db?sslmode=disable&application_name=svc&timezone=UTC");

        var settings = parsed.Builder;
        Assert.Equal("us@er", settings.Username);
        Assert.Equal("p:ss", settings.Password);
        Assert.Equal("h1:5433,h2:5434", settings.Host);
        Assert.Equal("my db", settings.Database);
        Assert.Equal(SslMode.Disable, settings.SslMode);
        Assert.Equal("svc", settings.ApplicationName);
        Assert.Equal("-c timezone=UTC", settings.Options);
        Assert.False(parsed.HasConnectTimeout);
    }

    [Fact]
    public void NpgsqlForm_IsAcceptedAndItsTimeoutsReported()
    {
        var parsed = PostgresConnectionString.Parse("Host=127.0.0.1;Port=5432;Username=postgres;Database=x;Command Timeout=3");

        Assert.Equal("127.0.0.1", parsed.Builder.Host);
        Assert.Equal(3, parsed.Builder.CommandTimeout);
        Assert.True(parsed.HasCommandTimeout);
        Assert.False(parsed.HasConnectTimeout);
    }

    [Theory]
    [InlineData("password=s3cr3t host")]
    [InlineData("password=s3cr3t sslmode=sometimes")]
    [InlineData("host=h password='s3cr3t")]
    [InlineData("Host=h;Password=s3cr3t;Bogus Key=1")]
    public void Unreadable_FailsWithoutEchoingThePassword(string connectionString)
    {
        var error = Assert.Throws<FormatException>(() => PostgresConnectionString.Parse(connectionString));

        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }
}
