using System.Security.Cryptography;
using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Security;

namespace Platform.Model.Catalog;

/// <summary>
/// At start, brings every provider key stored in a tenant's alias under the current secrets key: plaintext stored
/// before keys were encrypted, and values under a key being rotated out (<c>Secrets:PreviousKeys</c>). A row is
/// rewritten only if it is unchanged since it was read, so replicas doing this at once, or a tenant writing the alias
/// meanwhile, lose nothing.
/// </summary>
public sealed class ApiKeyReencryption(NpgsqlDataSource dataSource, SecretProtector secrets, ILogger<ApiKeyReencryption> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var rewritten = await ReencryptAsync(stoppingToken);
                if (rewritten > 0)
                {
                    logger.LogInformation("Re-encrypted the provider keys of {Count} aliases under the current secrets key", rewritten);
                }

                return;
            }
            catch (NpgsqlException e) when (attempt < 30 && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Re-encrypting provider keys failed ({Message}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), stoppingToken);
            }
        }
    }

    private async Task<int> ReencryptAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<AliasRow>("""
            SELECT tenant_id, alias, deployments::text AS deployments FROM model_aliases
            WHERE jsonb_path_exists(deployments, '$[*].apiKey ? (@.type() == "string")')
            """);
        var rewritten = 0;
        foreach (var row in rows)
        {
            if (Reencrypt(row) is not { } reencrypted)
            {
                continue;
            }

            rewritten += await connection.ExecuteAsync("""
                UPDATE model_aliases SET deployments = @reencrypted::jsonb
                WHERE tenant_id = @TenantId AND alias = @Alias AND deployments = @Deployments::jsonb
                """, new { row.TenantId, row.Alias, row.Deployments, reencrypted });
        }

        return rewritten;
    }

    /// <summary>The row's deployments with every key under the current secrets key, or null when none needs it.</summary>
    private string? Reencrypt(AliasRow row)
    {
        try
        {
            var deployments = ModelCatalog.ReadDeployments(row.Deployments);
            if (!deployments.Any(d => d.ApiKey is { } key && secrets.NeedsReprotecting(key)))
            {
                return null;
            }

            return ModelCatalog.WriteDeployments(deployments
                .Select(d => d.ApiKey is { } key && secrets.NeedsReprotecting(key) ? d.WithApiKey(secrets.Reprotect(key)) : d).ToList());
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            logger.LogWarning("A provider key of alias {Alias} of tenant {Tenant} cannot be decrypted with any configured secrets key ({Message}); it must be set again",
                row.Alias, row.TenantId, e.Message);
            return null;
        }
    }

    private sealed record AliasRow(string TenantId, string Alias, string Deployments);
}
