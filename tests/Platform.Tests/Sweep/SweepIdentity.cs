using System.Net.Http.Json;

namespace Platform.Tests.Sweep;

/// <summary>
/// The keys one service's sweep sends: an admin key of a fresh tenant (so no other test's data is in reach), a key of
/// that tenant without the scopes any endpoint needs, a revoked key, and the system admin key for the few operations
/// only a platform admin gets past (never for platform-wide settings).
/// </summary>
public sealed record SweepIdentity(
    string TenantId, string AdminKey, string AdminKeyId, string NoScopeKey, string RevokedKey, string PlatformAdminKey, string NewTenantId, Guid Unknown)
{
    public static async Task<SweepIdentity> CreateAsync(PlatformFixture platform)
    {
        var (tenantId, adminKey) = await platform.NewTenantAsync("admin");
        // "runs" and "agents" are scopes no endpoint of these services requires.
        var noScopeKey = await platform.IssueKeyAsync(tenantId, "runs");
        using var orchestrator = platform.AppHost.Client("orchestrator", adminKey);
        var me = (await orchestrator.GetFromJsonAsync<Me>("/v1/me"))!;
        var issued = await orchestrator.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "revoked", scopes = new[] { "admin" } });
        var revoked = (await issued.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<Issued>())!;
        (await orchestrator.DeleteAsync($"/v1/tenants/{tenantId}/keys/{revoked.ApiKey.Id}")).EnsureSuccessStatusCode();
        return new SweepIdentity(tenantId, adminKey, me.KeyId, noScopeKey, revoked.Key, platform.AppHost.AdminApiKey,
            $"sweep-{Guid.NewGuid():N}"[..20], Guid.NewGuid());
    }

    private sealed record Me(string KeyId);

    private sealed record Issued(string Key, IssuedKey ApiKey);

    private sealed record IssuedKey(Guid Id);
}
