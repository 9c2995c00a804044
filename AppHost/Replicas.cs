using Microsoft.Extensions.Configuration;

namespace Platform.AppHost;

internal static class ReplicaSettings
{
    /// <summary>How many processes of <paramref name="service"/> to run: <c>Replicas:&lt;service&gt;</c>, one by default.</summary>
    public static int Replicas(this IDistributedApplicationBuilder builder, string service) =>
        Math.Max(1, builder.Configuration.GetValue($"Replicas:{service}", 1));
}
