using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Security;

namespace Platform.Orchestrator.Runs;

/// <summary>A run's own API key: the key itself is kept encrypted with the run, only its hash in the key table.</summary>
public sealed record RunKey(Guid Id, string Plain, string Protected, string Hash, string Prefix, string[] Scopes);

/// <summary>
/// Keys that let a run's steps act for its tenant after the caller who started it has gone: scoped to the model
/// gateway, the tool service and planning, expiring an hour after the run's deadline, revoked when the run ends.
/// Each run has its own, so the gateway's ledger and budgets see every run apart.
/// </summary>
public sealed class RunKeys(SecretProtector protector, ApiKeyIndex index)
{
    public static readonly string[] Scopes = [ServiceDefaults.Authentication.Scopes.Models, ServiceDefaults.Authentication.Scopes.Tools, ServiceDefaults.Authentication.Scopes.Plans];

    public RunKey Mint()
    {
        var plain = ApiKeys.Generate();
        return new RunKey(Guid.CreateVersion7(), plain, protector.Protect(plain), ApiKeys.Hash(plain), plain[..8], Scopes);
    }

    public string Reveal(RunRow run) => protector.Unprotect(run.RunKey);

    /// <summary>Makes the key usable at once; the orchestrator's index sync would otherwise add it within a minute.</summary>
    public Task PublishAsync(RunKey key, string tenantId, DateTime deadline) =>
        index.PutAsync(key.Hash, new ApiKeyIdentity(key.Id.ToString(), tenantId, key.Scopes, new DateTimeOffset(deadline.AddHours(1), TimeSpan.Zero)));

    public Task WithdrawAsync(string keyHash) => index.RemoveAsync(keyHash);
}
