#pragma warning disable ASPIREPIPELINES001 // the pipeline API is how Aspire 13 runs its own publishers

using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Hosting.Kubernetes;

namespace Aspire.Hosting;

/// <summary>
/// Kubernetes output from the app model, as a step of Aspire's publishing pipeline next to the manifest:
/// <c>--operation publish --step publish-kubernetes --output-path &lt;folder&gt;</c>.
/// </summary>
public static class KubernetesPublishingExtensions
{
    public const string PublishStep = "publish-kubernetes";

    public static IDistributedApplicationBuilder AddKubernetesPublishing(this IDistributedApplicationBuilder builder)
    {
        builder.Pipeline.AddStep(new PipelineStep
        {
            Name = PublishStep,
            Description = "Writes Kubernetes YAML (a Kustomize base with staging and production overlays) from the app model.",
            Action = async context =>
            {
                try
                {
                    var outputPath = context.Services.GetRequiredService<IOptions<PipelineOptions>>().Value.OutputPath
                        ?? throw new DistributedApplicationException($"The {PublishStep} step writes into the folder given by '--output-path <folder>'.");
                    var app = await KubernetesAppModel.ReadAsync(context.Model, context.ExecutionContext, context.CancellationToken);
                    await new KubernetesPublisher(app, context.Services.GetRequiredService<IConfiguration>()).WriteAsync(outputPath, context.CancellationToken);
                    context.Logger.LogInformation("Published Kubernetes YAML to {Folder}", Path.GetFullPath(outputPath));
                }
                catch (DistributedApplicationException)
                {
                    // Aspire logs a failed step and still exits 0: a refused publish must fail the command (and the release) that ran it.
                    Environment.ExitCode = 1;
                    throw;
                }
            },
        });
        return builder;
    }

    /// <summary>Sets how the service runs on Kubernetes: resources, replica range, and whether it calls addresses outside the cluster.</summary>
    public static IResourceBuilder<ProjectResource> WithKubernetesWorkload(this IResourceBuilder<ProjectResource> project, Action<KubernetesWorkloadAnnotation> configure)
    {
        var workload = project.Resource.Annotations.OfType<KubernetesWorkloadAnnotation>().LastOrDefault();
        if (workload is null)
        {
            workload = new KubernetesWorkloadAnnotation();
            project.WithAnnotation(workload);
        }

        configure(workload);
        return project;
    }
}
