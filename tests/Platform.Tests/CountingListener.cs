using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Platform.Tests;

/// <summary>
/// A TCP listener on loopback that counts every connection it accepts, so a test can prove that nothing reached it,
/// and answers each HTTP request on it with an OpenAI chat completion saying "Hello from the listener".
/// </summary>
public sealed class CountingListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private int _accepted;

    public CountingListener()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Accepted => Volatile.Read(ref _accepted);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = AnswerAsync(client);
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                await ReadRequestAsync(stream);

                var body = """
                    {"id":"chatcmpl-listener","object":"chat.completion","created":1700000000,"model":"listener",
                     "choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the listener"},"finish_reason":"stop"}],
                     "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}
                    """;
                var response = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response), _stopping.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
            {
                // The client left; the connection was counted all the same.
            }
        }
    }

    /// <summary>Reads the whole request, body included: closing on unread bytes would reset the connection.</summary>
    private async Task ReadRequestAsync(NetworkStream stream)
    {
        var request = new StringBuilder();
        var buffer = new byte[8192];
        int headersEnd;
        while ((headersEnd = request.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
        {
            var read = await stream.ReadAsync(buffer, _stopping.Token);
            if (read == 0)
            {
                return;
            }

            request.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }

        var headers = request.ToString(0, headersEnd);
        var length = headers.Split("\r\n").Where(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(h => int.Parse(h["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        for (var remaining = length - (request.Length - headersEnd - 4); remaining > 0;)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, remaining)), _stopping.Token);
            if (read == 0)
            {
                return;
            }

            remaining -= read;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }
}
