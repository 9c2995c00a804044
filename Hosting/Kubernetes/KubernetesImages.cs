using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Microsoft.Extensions.Configuration;

namespace Platform.Hosting.Kubernetes;

/// <summary>
/// The images the overlays pin. The Deployments name placeholders, <c>platform-{service}</c> and production's
/// <c>platform-{service}-canary</c>, which each overlay's Kustomize <c>images:</c> replaces with
/// <c>{Kubernetes:ImageRegistry}/{service}</c> at <c>Kubernetes:ImageTag</c> (by default the platform's version) and, for
/// the canaries, <c>Kubernetes:CanaryImageTag</c> (by default that tag with <c>-canary</c>). A tag may be a digest
/// (<c>sha256:…</c>). An unpinned tag (<c>latest</c>) is refused, and so is a canary that would run the stable image.
/// </summary>
internal sealed partial class KubernetesImages
{
    public KubernetesImages(IConfiguration configuration)
    {
        Registry = configuration["Kubernetes:ImageRegistry"] ?? "registry.example.com/platform";
        Tag = Pinned("Kubernetes:ImageTag", configuration["Kubernetes:ImageTag"] ?? PlatformVersion());
        CanaryTag = Pinned("Kubernetes:CanaryImageTag", configuration["Kubernetes:CanaryImageTag"]
            ?? (DigestPattern().IsMatch(Tag) ? throw new DistributedApplicationException("Kubernetes:ImageTag is a digest: set Kubernetes:CanaryImageTag to the canaries' tag or digest.") : $"{Tag}-canary"));
        if (CanaryTag == Tag)
        {
            throw new DistributedApplicationException($"Kubernetes:CanaryImageTag is Kubernetes:ImageTag ('{Tag}'): a canary that runs the stable image tests nothing.");
        }
    }

    public string Registry { get; }

    public string Tag { get; }

    public string CanaryTag { get; }

    public static string Placeholder(string service, bool canary) => canary ? $"platform-{service}-canary" : $"platform-{service}";

    /// <summary>The <c>images:</c> of an overlay's kustomization.yaml: each service's stable image, and its canary's.</summary>
    public string Kustomize(IEnumerable<string> services, bool canaries)
    {
        var text = new StringBuilder("images:\n");
        foreach (var service in services)
        {
            Entry(service, canary: false, Tag);
            if (canaries)
            {
                Entry(service, canary: true, CanaryTag);
            }
        }

        return text.ToString();

        void Entry(string service, bool canary, string tag) =>
            text.Append($"- name: {Placeholder(service, canary)}\n  newName: {Registry}/{service}\n  {(DigestPattern().IsMatch(tag) ? "digest" : "newTag")}: \"{tag}\"\n");
    }

    private static string Pinned(string setting, string tag) =>
        (DigestPattern().IsMatch(tag) || TagPattern().IsMatch(tag)) && !tag.Equals("latest", StringComparison.OrdinalIgnoreCase)
            ? tag
            : throw new DistributedApplicationException(
                $"{setting} '{tag}' does not pin an image: give a release's tag (letters, digits, '_', '.', '-'; not 'latest') or a digest (sha256:<64 hex digits>).");

    private static string PlatformVersion() =>
        typeof(KubernetesImages).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();
}
