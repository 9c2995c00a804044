using System.Net;
using System.Text;

namespace Platform.Tests.Sweep;

/// <summary>Request bodies; the 20 MB ones stream one shared block instead of each holding its own copy.</summary>
public static class SweepContent
{
    private static readonly byte[] Filler = Enumerable.Repeat((byte)'a', HostileValues.TwentyMegabytes).ToArray();

    public static HttpContent Json(string text, string contentType = "application/json") => Raw(Encoding.UTF8.GetBytes(text), contentType);

    /// <summary>Bytes as they are, with the content type as given or none at all.</summary>
    public static HttpContent Raw(byte[] bytes, string? contentType)
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return content;
    }

    /// <summary><paramref name="prefix"/>, 20 MB of 'a', then <paramref name="suffix"/>.</summary>
    public static HttpContent Huge(string prefix, string suffix, string contentType) =>
        new PaddedContent(Encoding.UTF8.GetBytes(prefix), Encoding.UTF8.GetBytes(suffix), contentType);

    public static HttpContent MultipartWithHugePart(IEnumerable<KeyValuePair<string, byte[]>> fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            content.Add(new ByteArrayContent(value), name);
        }

        content.Add(new PaddedContent([], [], "application/octet-stream"), "file", "sweep.bin");
        return content;
    }

    public static HttpContent Multipart(IEnumerable<KeyValuePair<string, byte[]>> fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            content.Add(new ByteArrayContent(value), name);
        }

        return content;
    }

    /// <summary>The body with no Content-Length, sent in chunks.</summary>
    public static HttpContent Chunked(string text) =>
        new StreamContent(new NoLengthStream(Encoding.UTF8.GetBytes(text))) { Headers = { ContentType = new("application/json") } };

    private sealed class PaddedContent : HttpContent
    {
        private readonly byte[] _prefix;
        private readonly byte[] _suffix;

        public PaddedContent(byte[] prefix, byte[] suffix, string contentType)
        {
            _prefix = prefix;
            _suffix = suffix;
            Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_prefix);
            await stream.WriteAsync(Filler);
            await stream.WriteAsync(_suffix);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _prefix.Length + Filler.Length + _suffix.Length;
            return true;
        }
    }

    private sealed class NoLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
