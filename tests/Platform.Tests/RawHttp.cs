using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Platform.Tests;

/// <summary>
/// Requests written by hand on a socket, for what HttpClient never puts on the wire as asked: a header alone without a
/// body (it adds <c>Content-Length: 0</c>), a header repeated on two lines (it joins them into one).
/// </summary>
internal static class RawHttp
{
    /// <summary><paramref name="rest"/> follows the headers: the blank line and a body, or headers of its own first.</summary>
    public static async Task<(int Status, string Body)> SendAsync(Uri url, string apiKey, string method, string path, IEnumerable<string> headers, string rest)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        await using var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\n")
            .Append(CultureInfo.InvariantCulture, $"Host: {url.Authority}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Authorization: Bearer {apiKey}\r\n")
            .Append(string.Concat(headers.Select(h => h + "\r\n")))
            .Append("Connection: close\r\n")
            .Append(rest)
            .ToString();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();
        var status = int.Parse(answer.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        var body = answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        return (status, Dechunk(body));
    }

    private static string Dechunk(string body)
    {
        var text = new StringBuilder();
        var rest = body;
        while (rest.IndexOf("\r\n", StringComparison.Ordinal) is var end and > 0
            && int.TryParse(rest[..end], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size))
        {
            if (size == 0)
            {
                return text.ToString();
            }

            text.Append(rest.AsSpan(end + 2, size));
            rest = rest[(end + 2 + size + 2)..];
        }

        return text.Length > 0 ? text.ToString() : body;
    }
}
