using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Platform.Tests.Sweep;

/// <summary>
/// What one request got: a status and the start of an error's body, or the exception that took the answer's place (a
/// dropped or truncated answer). <paramref name="Shape"/> says what is wrong with an error answer's shape.
/// </summary>
public sealed record Outcome(HostileRequest Request, string Phase, int? Status, string? Excerpt, string? Shape, string? Error, TimeSpan Elapsed)
{
    public bool Failed => Error is not null || Status >= 500;

    public override string ToString() => $"{Request} → {Error ?? $"{Status} {Excerpt}".TrimEnd()}";
}

/// <summary>Sends requests with bounded concurrency; one request's failure never stops the others.</summary>
public sealed class SweepRunner(Uri service) : IDisposable
{
    private const int Concurrency = 8;
    private const long HugeBody = 512 * 1024;

    // Only two huge bodies in flight (a megabyte prompt costs the gateway a second or two of tokenizing): more make a
    // two-core machine time out, which says nothing about the platform.
    private readonly SemaphoreSlim _huge = new(2);
    private const int Excerpt = 300;

    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        // Header values are written byte for byte, so a hostile one reaches the server as built.
        RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        // Long enough for a loaded machine to answer before the body goes: see SendAsync.
        Expect100ContinueTimeout = TimeSpan.FromSeconds(30),
    })
    { BaseAddress = service, Timeout = TimeSpan.FromSeconds(60) };

    public HttpClient Client => _client;

    public async Task<Outcome> SendAsync(HostileRequest request, string phase)
    {
        var started = Stopwatch.GetTimestamp();
        var huge = false;
        try
        {
            using var message = request.ToMessage(service);
            // A connection of its own: a connection dropped is then this request's, never a reused one closed meanwhile.
            message.Headers.ConnectionClose = true;
            huge = message.Content?.Headers.ContentLength > HugeBody;
            if (huge)
            {
                // As curl does for large bodies: a server refusing the body (413, 415) answers before it is sent,
                // instead of closing the connection under a client still writing it.
                message.Headers.ExpectContinue = true;
                await _huge.WaitAsync();
                started = Stopwatch.GetTimestamp();
            }

            using var response = await _client.SendAsync(message);
            // Buffered in full: a connection closed before the announced end of the body throws here.
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            var excerpt = status < 400 ? null : body.Length <= Excerpt ? body : $"{body[..Excerpt]}…";
            return new Outcome(request, phase, status, excerpt, ErrorShape.Check(request, status, response.Content.Headers.ContentType?.MediaType, body), null,
                Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or InvalidOperationException or FormatException)
        {
            return new Outcome(request, phase, null, null, null, Describe(e), Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            if (huge)
            {
                _huge.Release();
            }
        }
    }

    /// <summary>
    /// Runs each lane in order, lanes side by side. After a lane's request stores a value of its own, <paramref name="readers"/>
    /// run in that lane at once, so a stored value that breaks a later request is caught while it is still the stored one.
    /// </summary>
    public async Task<IReadOnlyList<Outcome>> RunAsync(IEnumerable<IReadOnlyList<HostileRequest>> lanes, string phase, IReadOnlyList<HostileRequest>? readers = null)
    {
        var outcomes = new ConcurrentBag<Outcome>();
        await Parallel.ForEachAsync(lanes.OrderByDescending(l => l.Count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (lane, _) =>
        {
            foreach (var request in lane)
            {
                var outcome = await SendAsync(request, phase);
                outcomes.Add(outcome);
                if (readers is not null && outcome.Status is >= 200 and < 300 && request.ChangesStoredValue)
                {
                    foreach (var reader in readers)
                    {
                        outcomes.Add(await SendAsync(reader with { Case = $"read back after {request}" }, "read-back"));
                    }
                }
            }
        });
        return [.. outcomes];
    }

    public void Dispose()
    {
        _client.Dispose();
        _huge.Dispose();
    }

    private static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            messages.Add($"{inner.GetType().Name}: {inner.Message}");
        }

        return string.Join(" ← ", messages);
    }
}
