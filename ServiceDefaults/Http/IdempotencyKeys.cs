using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// The <c>Idempotency-Key</c> rule every service applies, whether the key comes as the header (runs, plans, chat
/// completions) or in a body (tool invocations): 1 to <see cref="MaxLength"/> visible ASCII characters, and a header
/// sent once, since two values joined would name neither request.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 200;

    public static readonly string Rule = $"One {Header} header of 1 to {MaxLength} printable ASCII characters without spaces.";

    public static bool IsValid(string? key) => key is { Length: > 0 and <= MaxLength } && key.All(c => c is >= '!' and <= '~');

    /// <summary>False when the header is repeated or its value breaks the rule; a request without it has no key and is valid.</summary>
    public static bool TryRead(IHeaderDictionary headers, out string? key)
    {
        var values = headers[Header];
        key = values is [var single] ? single : null;
        return values.Count == 0 || IsValid(key);
    }

    /// <summary>The problem+json answer to a key <see cref="TryRead"/> refused.</summary>
    public static ValidationProblem Problem() => ValidationProblems.For(Header, Rule);

    /// <summary>
    /// The key of a call made on behalf of a keyed request (the planner's gateway calls, <c>{key}:planner:N</c>): the
    /// request's key with <paramref name="suffix"/>, or its SHA-256 in hex when that would break the length rule, so
    /// that every key the platform sends another service passes that service's check too.
    /// </summary>
    public static string Derive(string key, string suffix)
    {
        var derived = $"{key}:{suffix}";
        return derived.Length <= MaxLength ? derived : $"{Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(key)))}:{suffix}";
    }
}
