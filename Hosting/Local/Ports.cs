using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Platform.Hosting.Local;

internal static class Ports
{
    // Below Linux's ephemeral range (32768-60999), so the kernel never hands these to a bind(0) or an outgoing
    // connection between our check and the service's own bind.
    private const int FirstPort = 20000;
    private const int LastPort = 32767;
    private static readonly TimeSpan Held = TimeSpan.FromMinutes(10);

    /// <summary>The configured port after checking nobody holds it, or a free one.</summary>
    public static int Claim(string resourceName, int? configured)
    {
        if (configured is not { } port)
        {
            return Free();
        }

        if (!IsFree(port))
        {
            throw new DistributedApplicationException(
                $"Port {port} for '{resourceName}' is already in use. Stop what holds it, or set Ports:{resourceName} to another port (0 picks a free one).");
        }

        return port;
    }

    /// <summary>
    /// A free port that no other AppHost on this machine was given in the last minutes: hosts starting side by side
    /// (parallel test runs) record their picks in one shared file, under a lock, so no two services race for a port.
    /// </summary>
    private static int Free()
    {
        using var registry = Lock();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var given = Read(registry).Where(p => now - p.Value < Held.TotalSeconds).ToDictionary();
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(FirstPort, LastPort + 1);
            if (!given.ContainsKey(port) && IsFree(port))
            {
                given[port] = now;
                registry.SetLength(0);
                JsonSerializer.Serialize(registry, given);
                return port;
            }
        }

        throw new DistributedApplicationException($"No free port between {FirstPort} and {LastPort}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static Dictionary<int, long> Read(FileStream registry)
    {
        if (registry.Length == 0)
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<int, long>>(registry) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
        finally
        {
            registry.Position = 0;
        }
    }

    private static FileStream Lock()
    {
        var path = Path.Combine(Path.GetTempPath(), $"platform-ports-{Environment.UserName}.json");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 200)
            {
                Thread.Sleep(25);
            }
        }
    }
}
