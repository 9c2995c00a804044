using System.ComponentModel.DataAnnotations;

namespace Platform.Orchestrator.Tenants;

/// <summary>The AppHost's generated <c>admin-api-key</c> parameter: the first key of the system tenant.</summary>
public sealed class BootstrapOptions
{
    [Required]
    [MinLength(16)]
    public string BootstrapAdminKey { get; set; } = "";
}
