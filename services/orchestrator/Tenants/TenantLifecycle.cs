using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;

namespace Platform.Orchestrator.Tenants;

public sealed class TenantLifecycleOptions
{
    /// <summary>How long a deleted tenant's data is kept before every service purges it, unless a deletion says otherwise.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>
/// Deactivating or deleting a tenant revokes all its keys in the same transaction (so they stop working everywhere at
/// once, through the index and its revocation channel); a deletion is announced so every service purges the tenant's
/// data once its retention has passed. The tenant's row stays as a tombstone: its id is never reused. Platform admins
/// may act only as active tenants, so each change is written through to <see cref="ActiveTenants"/> once committed.
/// </summary>
public sealed class TenantLifecycle(
    TenantStore tenants, ApiKeyStore keys, DeletedTenants deleted, ActiveTenants activeTenants, IOptions<TenantLifecycleOptions> options)
{
    public async Task<(TenantRow? Tenant, int RevokedKeys)> DeactivateAsync(string tenantId)
    {
        await using var connection = await tenants.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var tenant = await tenants.SetDeactivatedAsync(tenantId, deactivated: true, connection, transaction);
        var revoked = tenant is null ? 0 : await keys.RevokeAllAsync(tenantId, connection, transaction);
        await transaction.CommitAsync();
        await activeTenants.RemoveAsync(tenantId);
        return (tenant, revoked);
    }

    /// <summary>Lets a deactivated tenant be used again; its old keys stay revoked, so an admin issues new ones.</summary>
    public async Task<TenantRow?> ActivateAsync(string tenantId)
    {
        await using var connection = await tenants.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var tenant = await tenants.SetDeactivatedAsync(tenantId, deactivated: false, connection, transaction);
        await transaction.CommitAsync();
        if (tenant is not null)
        {
            await activeTenants.AddAsync(tenant.Id);
        }

        return tenant;
    }

    public async Task<(TenantRow? Tenant, int RevokedKeys)> DeleteAsync(string tenantId, TimeSpan? retention)
    {
        await using var connection = await tenants.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var tenant = await tenants.MarkDeletedAsync(tenantId, retention ?? options.Value.Retention, connection, transaction);
        var revoked = tenant is null ? 0 : await keys.RevokeAllAsync(tenantId, connection, transaction);
        await transaction.CommitAsync();
        await activeTenants.RemoveAsync(tenantId);
        if (tenant is not null)
        {
            await deleted.AnnounceAsync(tenant.Id, tenant.PurgeAfter!.Value);
        }

        return (tenant, revoked);
    }
}
