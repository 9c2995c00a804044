namespace Platform.ServiceDefaults.Authentication;

/// <summary>What a verified key stands for. The key itself is never stored, only its hash.</summary>
public sealed record ApiKeyIdentity(string KeyId, string TenantId, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt);
