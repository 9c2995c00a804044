using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>
/// Run mode: starts Postgres, Redis and the projects as local processes in dependency order, and stops them in
/// reverse: projects first, then the servers.
/// </summary>
internal sealed class LocalRunner(DistributedApplicationBuilder builder)
{
    private readonly ConsoleOutput _output = new(builder.Options.Output);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, string> _connectionStrings = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ResourceRunner> _runners = [];
    private readonly List<Task> _running = [];
    private ParameterValues? _parameters;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var state = new StateDirectory(builder.Configuration["StateDirectory"] ?? Path.Combine(Directory.GetCurrentDirectory(), ".platform"));
        await OrphanedProcesses.StopAsync(state, _output);
        _parameters = new ParameterValues(builder.Resources.OfType<ParameterResource>(), builder.Configuration, state);
        var table = new ResourceStateTable(state, _output);
        CreateRunners(state, table);
        table.Track(_runners, _parameters.All, _connectionStrings);

        foreach (var runner in _runners)
        {
            _running.Add(Task.Run(() => RunAfterDependenciesAsync(runner), CancellationToken.None));
        }

        var timeout = TimeSpan.FromSeconds(builder.Configuration.GetValue("StartupTimeoutSeconds", 120));
        try
        {
            await Task.WhenAll(_runners.Select(r => r.Healthy)).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            var waiting = _runners.Where(r => !r.Healthy.IsCompletedSuccessfully).Select(r => $"{r.Name} ({r.State})");
            throw new DistributedApplicationException(
                $"Not healthy after {timeout.TotalSeconds:0} s: {string.Join(", ", waiting)}. Their log lines above say why.");
        }

        table.ShowReady(stopwatch.Elapsed);
    }

    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_runners.OfType<ProjectRunner>().Select(r => r.StopAsync()));
        await Task.WhenAll(_runners.Where(r => r is not ProjectRunner).Select(r => r.StopAsync()));
        await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public string GetConnectionString(string resourceName) =>
        _connectionStrings.TryGetValue(resourceName, out var value) ? value : throw new KeyNotFoundException($"No connection string for '{resourceName}'.");

    public Uri GetEndpoint(string resourceName) => new(Runner(resourceName).Url ?? throw new KeyNotFoundException($"'{resourceName}' has no endpoint."));

    public string GetParameterValue(string parameterName) => _parameters!.All[parameterName];

    public ResourceState GetState(string resourceName) => Runner(resourceName).State;

    private ResourceRunner Runner(string name) =>
        _runners.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"No resource named '{name}'.");

    private async Task RunAfterDependenciesAsync(ResourceRunner runner)
    {
        var dependencies = runner.Resource.WaitsFor.Select(d => d is ParameterResource ? null : Runner(d.Name)).OfType<ResourceRunner>();
        if (runner.Resource is PostgresDatabaseResource database && _runners.Any(r => r.Resource == database.Server))
        {
            dependencies = dependencies.Append(Runner(database.Server.Name));
        }

        try
        {
            await Task.WhenAll(dependencies.Select(d => d.Healthy)).WaitAsync(_stopping.Token);
        }
        catch (DistributedApplicationException e)
        {
            runner.FailBecauseOf(e);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await runner.RunAsync(_stopping.Token);
    }

    private void CreateRunners(StateDirectory state, ResourceStateTable table)
    {
        var parameters = _parameters!;
        foreach (var resource in builder.Resources)
        {
            var existing = builder.Configuration.GetConnectionString(resource.Name);
            switch (resource)
            {
                case PostgresServerResource server when existing is not null:
                    _connectionStrings[server.Name] = existing;
                    break;
                case PostgresServerResource server:
                    var postgres = new PostgresServerRunner(server, parameters[server.Password], Ports.Claim(server.Name, server.Port), state, _output, table);
                    _connectionStrings[server.Name] = postgres.ConnectionString;
                    _runners.Add(postgres);
                    break;
                case PostgresDatabaseResource database when existing is not null:
                    _connectionStrings[database.Name] = existing;
                    break;
                case PostgresDatabaseResource database:
                    _connectionStrings[database.Name] = $"{_connectionStrings[database.Server.Name]};Database={database.Name}";
                    _runners.Add(new PostgresDatabaseRunner(database, () => _connectionStrings[database.Server.Name], table));
                    break;
                case RedisResource redis when existing is not null:
                    _connectionStrings[redis.Name] = existing;
                    break;
                case RedisResource redis:
                    var redisRunner = new RedisRunner(redis, parameters[redis.Password], Ports.Claim(redis.Name, redis.Port), state, _output, table);
                    _connectionStrings[redis.Name] = redisRunner.ConnectionString;
                    _runners.Add(redisRunner);
                    break;
            }
        }

        var projects = builder.Resources.OfType<ProjectResource>().ToList();
        var ports = projects.ToDictionary(p => p.Name, p => Ports.Claim(p.Name, p.HttpPort));
        foreach (var project in projects)
        {
            _runners.Add(new ProjectRunner(project, ports[project.Name], ProjectEnvironment(project, ports), _output, table));
        }
    }

    private Dictionary<string, string> ProjectEnvironment(ProjectResource project, IReadOnlyDictionary<string, int> ports)
    {
        var environment = new Dictionary<string, string>
        {
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"] = "true",
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"] = "true",
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
            ["ASPNETCORE_URLS"] = $"http://localhost:{ports[project.Name]}",
            ["ASPNETCORE_ENVIRONMENT"] = builder.Configuration["ServiceEnvironment"] ?? "Development",
            ["OTEL_SERVICE_NAME"] = project.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={Guid.NewGuid():N}",
        };
        var otlpEndpoint = builder.Configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] ?? builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (!string.IsNullOrEmpty(otlpEndpoint))
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "grpc";
            environment["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
            environment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
        }

        foreach (var reference in project.ConnectionReferences)
        {
            environment[$"ConnectionStrings__{reference.Name}"] = _connectionStrings[reference.Name];
        }

        foreach (var service in project.ServiceReferences)
        {
            environment[$"services__{service.Name}__http__0"] = $"http://localhost:{ports[service.Name]}";
        }

        foreach (var (name, value) in project.Environment)
        {
            environment[name] = value is ParameterResource parameter ? _parameters![parameter] : (string)value;
        }

        return environment;
    }
}
