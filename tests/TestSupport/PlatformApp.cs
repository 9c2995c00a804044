using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Platform.TestSupport;

/// <summary>
/// The real AppHost started through <c>Aspire.Hosting.Testing</c> over a throwaway data folder, PostgreSQL and Redis as
/// local processes, and random ports; ready once every service is healthy.
/// </summary>
public sealed class PlatformApp : IAsyncDisposable
{
    public static readonly string[] Services = ["orchestrator", "planning", "model", "tool", "dashboard"];
    private static readonly string[] ServerResources = ["postgres", "orchestratordb", "planningdb", "modeldb", "tooldb", "cache"];

    private readonly ConcurrentDictionary<string, ResourceEvent> _resources = new();
    private readonly Dictionary<string, string> _connectionStrings = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _watching = Task.CompletedTask;

    private PlatformApp(DistributedApplication app, string dataDirectory, string adminApiKey)
    {
        App = app;
        DataDirectory = dataDirectory;
        AdminApiKey = adminApiKey;
    }

    public DistributedApplication App { get; }

    public string DataDirectory { get; }

    public string AdminApiKey { get; }

    /// <summary>Starts the platform; <paramref name="settings"/> are AppHost settings such as <c>Replicas:model=2</c>.</summary>
    public static Task<PlatformApp> StartAsync(params string[] settings) => StartAsync([], settings);

    /// <summary>
    /// Starts the platform with <paramref name="serviceSettings"/> given to one service each, such as
    /// <c>("model", "ModelGateway:TotalTimeout", "00:00:20")</c>: what a test needs that the AppHost never passes.
    /// </summary>
    public static async Task<PlatformApp> StartAsync(IEnumerable<(string Service, string Setting, string Value)> serviceSettings, params string[] settings)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"platform-test-{Guid.NewGuid():N}");
        var adminApiKey = $"plt_test{Guid.NewGuid():N}";
        string[] args =
        [
            "--DataServers:RunAs=Process",
            $"--DataServers:DataDirectory={dataDirectory}",
            $"--Parameters:admin-api-key={adminApiKey}",
            .. settings.Select(s => $"--{s}"),
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args);
        foreach (var service in Services)
        {
            // The test host runs no Aspire dashboard, yet Aspire still points every service's OTLP exporter at the
            // dashboard's default address: with nothing listening there, each service would record every span and
            // log only to fail sending it, and measure that cost in every benchmark.
            builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }

        foreach (var (service, setting, value) in serviceSettings)
        {
            builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment(setting.Replace(":", "__", StringComparison.Ordinal), value);
        }

        var platform = new PlatformApp(await builder.BuildAsync(), dataDirectory, adminApiKey);
        platform._watching = platform.WatchAsync(platform._stopping.Token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await platform.App.StartAsync(timeout.Token);
        foreach (var resource in ServerResources.Concat(Services))
        {
            await platform.App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }

        foreach (var resource in ServerResources)
        {
            platform._connectionStrings[resource] = (await platform.App.GetConnectionStringAsync(resource, timeout.Token))!;
        }

        return platform;
    }

    public Uri Url(string resource) => App.GetEndpoint(resource, "http");

    public HttpClient Client(string resource, string? apiKey = null) => ClientFor(Url(resource), apiKey);

    /// <summary>A client of the first replica's own endpoint, past DCP's proxy: what a benchmark of the service measures.</summary>
    public HttpClient DirectClient(string resource, string? apiKey = null) => ClientFor(Replicas(resource)[0].Url!, apiKey);

    public static HttpClient ClientFor(Uri baseAddress, string? apiKey)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        }

        return client;
    }

    public string ConnectionString(string resource) => _connectionStrings[resource];

    /// <summary>Each running process of <paramref name="resource"/>: its replica id, own URL (not the proxy's) and pid.</summary>
    public IReadOnlyList<Replica> Replicas(string resource) =>
        [.. _resources.Values
            .Where(e => e.Resource.Name == resource)
            .Select(e => new Replica(e.ResourceId, e.Snapshot.State?.Text, OwnUrl(e.Snapshot), Pid(e.Snapshot)))
            .OrderBy(r => r.Id, StringComparer.Ordinal)];

    public string? State(string resourceId) => _resources.TryGetValue(resourceId, out var e) ? e.Snapshot.State?.Text : null;

    public async Task RunCommandAsync(string resourceId, string command)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(resourceId, command);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{command} on {resourceId} failed: {result.Message}");
        }
    }

    /// <summary>Waits until <paramref name="count"/> replicas of <paramref name="resource"/> answer their own health endpoint.</summary>
    public async Task WaitUntilReplicasServeAsync(string resource, int count)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Waits.WaitUntilAsync($"{count} replicas of {resource} to serve", TimeSpan.FromSeconds(90), async () =>
        {
            var serving = 0;
            foreach (var replica in Replicas(resource).Where(r => r.State == "Running" && r.Url is not null))
            {
                try
                {
                    serving += (await client.GetAsync(new Uri(replica.Url!, "/health"))).IsSuccessStatusCode ? 1 : 0;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not serving yet.
                }
            }

            return serving;
        }, serving => serving >= count, serving => $"{serving} serve");
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            await _watching;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            _resources[resourceEvent.ResourceId] = resourceEvent;
        }
    }

    private static Uri? OwnUrl(CustomResourceSnapshot snapshot) =>
        snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value is { } urls
            ? new Uri(urls.Split(';')[0])
            : null;

    private static int? Pid(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid ? Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture) : null;
}

public sealed record Replica(string Id, string? State, Uri? Url, int? Pid);
