namespace Platform.Model.Gateway;

/// <summary>The <c>Idempotency-Key</c> request header, and <c>Idempotent-Replayed</c> on an answer served from a stored one.</summary>
public static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>The key, none when the header is absent, or an error when it is repeated, empty, too long or not printable ASCII.</summary>
    public static (string? Key, OpenAiError? Error) Read(IHeaderDictionary headers)
    {
        var values = headers[Header];
        if (values.Count == 0)
        {
            return (null, null);
        }

        return values is [{ Length: > 0 and <= MaxLength } key] && key.All(c => c is >= ' ' and <= '~')
            ? (key, null)
            : (null, OpenAiError.IdempotencyKeyInvalid());
    }
}
