using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Platform.Tests;

/// <summary>A TCP port on 127.0.0.1 that counts the connections made to it (and closes them): what SSRF must never reach.</summary>
public sealed class ConnectionCounter : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<int> _acceptedFromPorts = new();

    public ConnectionCounter()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>
    /// The connections accepted before a marker connection of the test's own. The listener accepts connections in the
    /// order they were made, so once the marker is accepted every connection made before it has been counted: what
    /// proves that none was made, without waiting a while in the hope that one would have shown by then.
    /// </summary>
    public async Task<int> AcceptedBeforeMarkerAsync()
    {
        using var marker = new TcpClient();
        await marker.ConnectAsync(IPAddress.Loopback, Port);
        var markerPort = ((IPEndPoint)marker.Client.LocalEndPoint!).Port;
        return await WaitUntilAsync("the marker connection to be accepted", TimeSpan.FromSeconds(10),
            () => Task.FromResult(_acceptedFromPorts.ToList().IndexOf(markerPort)), index => index >= 0, _ => "not accepted");
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
                _acceptedFromPorts.Enqueue(((IPEndPoint)client.Client.RemoteEndPoint!).Port);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }
}
