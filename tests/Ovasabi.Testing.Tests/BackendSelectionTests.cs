using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ovasabi.Testing.Tests;

public sealed class BackendSelectionTests
{
    private const string NoSocket = "/nonexistent/docker.sock";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Processes_are_the_default_when_no_engine_answers()
    {
        var (backend, engine) = await SelectAsync(("DOCKER_HOST", $"unix://{NoSocket}"));

        Assert.Equal(ServerBackend.Process, backend);
        Assert.Null(engine);
    }

    [Theory]
    [InlineData("process", nameof(ServerBackend.Process))]
    [InlineData("Container", nameof(ServerBackend.Container))]
    public async Task The_environment_variable_forces_a_backend(string value, string expected)
    {
        var (backend, _) = await SelectAsync((BackendSelection.Variable, value));

        Assert.Equal(expected, backend.ToString());
    }

    [Fact]
    public async Task An_unknown_backend_name_is_rejected()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SelectAsync((BackendSelection.Variable, "docker")));

        Assert.Equal("OVASABI_TEST_BACKEND must be 'process' or 'container', not 'docker'", error.Message);
    }

    [Fact]
    public async Task An_engine_answering_ping_selects_containers_and_is_recognised_as_podman()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var answer = AnswerPingLikePodmanAsync(listener);

        var (backend, engine) = await SelectAsync(("DOCKER_HOST", $"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"));
        await answer.WaitAsync(TimeSpan.FromSeconds(10), Cancellation);

        Assert.Equal(ServerBackend.Container, backend);
        Assert.Equal(new ContainerEngine(IsPodman: true), engine);
    }

    private static Task<(ServerBackend Backend, ContainerEngine? Engine)> SelectAsync(params (string Name, string Value)[] variables)
    {
        var environment = variables.ToDictionary(variable => variable.Name, variable => variable.Value);
        return BackendSelection.SelectAsync(name => environment.GetValueOrDefault(name), NoSocket, Cancellation);
    }

    // Just enough of the Docker API for one GET /_ping, with the header podman's compat API adds.
    private static async Task AnswerPingLikePodmanAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync(Cancellation);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        var requestLine = await reader.ReadLineAsync(Cancellation);
        while (!string.IsNullOrEmpty(await reader.ReadLineAsync(Cancellation)))
        {
        }

        Assert.Equal("GET /_ping HTTP/1.1", requestLine);
        var response = "HTTP/1.1 200 OK\r\nLibpod-Api-Version: 4.3.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), Cancellation);
    }
}
