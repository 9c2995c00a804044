using Platform.Hosting.Local;
using Platform.Hosting.Publishing;

namespace Platform.Hosting;

public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly DistributedApplicationBuilder _builder;
    private LocalRunner? _runner;

    internal DistributedApplication(DistributedApplicationBuilder builder) => _builder = builder;

    /// <summary>The AppHost's entry: a problem the user can fix ends the process with one line on stderr, not a stack trace.</summary>
    public static DistributedApplicationBuilder CreateBuilder(string[] args)
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is DistributedApplicationException problem)
            {
                Console.Error.WriteLine($"error: {problem.Message}");
                Environment.Exit(1);
            }
        };
        return new(args, new DistributedApplicationOptions());
    }

    public static DistributedApplicationBuilder CreateBuilder(string[] args, DistributedApplicationOptions options) => new(args, options);

    /// <summary>Runs until Ctrl+C or SIGTERM in run mode; writes the manifest and returns in publish mode.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    public async Task RunAsync()
    {
        if (_builder.ExecutionContext.IsPublishMode)
        {
            ManifestPublisher.Write(_builder.Resources, _builder.ExecutionContext.ManifestPath!);
            return;
        }

        using var stopping = new CancellationTokenSource();
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stopping.Cancel(); });
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
        try
        {
            await StartAsync(stopping.Token);
            await Task.Delay(Timeout.Infinite, stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        finally
        {
            await StopAsync();
        }
    }

    /// <summary>Starts every resource and returns once all are healthy.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _runner ??= new LocalRunner(_builder);
        await _runner.StartAsync(cancellationToken);
    }

    public async Task StopAsync()
    {
        if (_runner is not null)
        {
            await _runner.StopAsync();
        }
    }

    /// <summary>The connection string a referencing project gets for <paramref name="resourceName"/>.</summary>
    public string GetConnectionString(string resourceName) => Runner.GetConnectionString(resourceName);

    /// <summary>The local http URL of a project, e.g. <c>http://localhost:5101</c>.</summary>
    public Uri GetEndpoint(string resourceName) => Runner.GetEndpoint(resourceName);

    public string GetParameterValue(string parameterName) => Runner.GetParameterValue(parameterName);

    public ResourceState GetState(string resourceName) => Runner.GetState(resourceName);

    private LocalRunner Runner => _runner ?? throw new InvalidOperationException("The application has not been started.");

    public async ValueTask DisposeAsync() => await StopAsync();
}
