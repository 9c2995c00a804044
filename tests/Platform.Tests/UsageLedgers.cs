using System.Net.Http.Json;
using Dapper;
using Npgsql;
using Platform.TestSupport;

namespace Platform.Tests;

/// <summary>The gateway's usage ledger, which each replica writes in batches off the request path, in the order of its calls.</summary>
public static class UsageLedgers
{
    /// <summary>
    /// Waits until every running gateway replica has written all it recorded before this call: each is sent a marker
    /// call of the system tenant, and its ledger holds everything before once the marker's row is there. What shows that
    /// a row which should not exist would have appeared by now.
    /// </summary>
    public static async Task WaitUntilWrittenAsync(PlatformApp app)
    {
        var markers = new List<string>();
        foreach (var replica in app.Replicas("model").Where(r => r.State == "Running" && r.Url is not null))
        {
            var marker = $"ledger-marker-{Guid.NewGuid():N}";
            using var gateway = PlatformApp.ClientFor(replica.Url!, app.AdminApiKey);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "simulator", messages = new[] { new { role = "user", content = marker } } }),
            };
            request.Headers.Add("Idempotency-Key", marker);
            (await gateway.SendAsync(request)).EnsureSuccessStatusCode();
            markers.Add(marker);
        }

        await using var ledger = new NpgsqlConnection(app.ConnectionString("modeldb"));
        await WaitUntilAsync("each gateway replica's ledger to be written up to its marker", TimeSpan.FromSeconds(30),
            () => ledger.ExecuteScalarAsync<long>("SELECT count(*) FROM usage_ledger WHERE idempotency_key = ANY(@markers)", new { markers = markers.ToArray() }),
            written => written == markers.Count, written => $"{written} of {markers.Count} markers");
    }
}
