using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Net;
using Platform.ServiceDefaults.Security;
using Platform.Tool.Builtins;
using Platform.Tool.Invocations;
using Platform.Tool.Mcp;
using Platform.Tool.Net;
using Platform.Tool.Registry;

namespace Platform.Tool.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase("tooldb");
        builder.AddServiceCache("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddSecretProtection();
        // Approvals refer to invocations, so they go first.
        builder.AddTenantPurge("approvals", "tool_invocations", "tool_policies", "tools", "memory", "http_allowlist", "http_private_grants", "mcp_servers", "secrets");

        builder.Services.AddSingleton<HttpAllowlistIndex>();
        builder.Services.AddSingleton<HttpAllowlist>();
        builder.Services.AddHostedService<HttpAllowlistIndexSync>();
        builder.Services.AddSingleton<SafeHttp>();
        builder.Services.AddSingleton<SecretStore>();
        builder.Services.AddHostedService<SecretReprotection>();
        builder.Services.AddSingleton<IBuiltinTool, CalculatorTool>();
        builder.Services.AddSingleton<IBuiltinTool, CurrentTimeTool>();
        builder.Services.AddSingleton<IBuiltinTool, JsonQueryTool>();
        builder.Services.AddSingleton<IBuiltinTool, RegexExtractTool>();
        builder.Services.AddSingleton<IBuiltinTool, TemplateRenderTool>();
        builder.Services.AddSingleton<IBuiltinTool, MemorySetTool>();
        builder.Services.AddSingleton<IBuiltinTool, MemoryGetTool>();
        builder.Services.AddSingleton<IBuiltinTool, HttpRequestTool>();
        builder.Services.AddSingleton<ToolStore>();
        builder.Services.AddSingleton<ToolCatalog>();
        builder.Services.AddSingleton<ArgumentValidator>();
        builder.Services.AddSingleton<HttpToolExecutor>();
        builder.Services.AddSingleton<InvocationStore>();
        builder.Services.AddSingleton<InvocationEngine>();
        builder.Services.AddHostedService<ApprovalExpiry>();
        builder.Services.AddSingleton<McpServerStore>();
        builder.Services.AddSingleton<McpConnections>();
    }
}
