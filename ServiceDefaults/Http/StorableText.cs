namespace Platform.ServiceDefaults.Http;

/// <summary>
/// Text PostgreSQL and UTF-8 can hold: no NUL character (Postgres text refuses it) and no lone surrogate (it has no
/// UTF-8 encoding).
/// </summary>
public static class StorableText
{
    /// <summary>Why <paramref name="text"/> cannot be stored, or null when it can.</summary>
    public static string? Problem(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return "contains a NUL character (\\u0000), which cannot be stored";
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "contains a lone surrogate, which is not valid Unicode text";
            }
        }

        return null;
    }
}
