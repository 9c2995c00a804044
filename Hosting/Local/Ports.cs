using System.Net;
using System.Net.Sockets;

namespace Platform.Hosting.Local;

internal static class Ports
{
    /// <summary>The configured port after checking nobody holds it, or a free one.</summary>
    public static int Claim(string resourceName, int? configured)
    {
        if (configured is not { } port)
        {
            return Free();
        }

        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException)
        {
            throw new DistributedApplicationException(
                $"Port {port} for '{resourceName}' is already in use. Stop what holds it, or set Ports:{resourceName} to another port (0 picks a free one).");
        }

        return port;
    }

    private static int Free()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
