using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Platform.Tests.Sweep;

/// <summary>
/// A hostile string in every form a request carries it: <paramref name="Json"/> is raw JSON text (so a lone surrogate
/// stays the escape <c>\ud800</c>), <paramref name="Bytes"/> what goes on the wire in a URL, form, header or cookie.
/// </summary>
public sealed record HostileString(string Name, string Json, byte[] Bytes, bool MustBeRefused = false)
{
    /// <summary>Percent-encoded, every byte outside the unreserved set escaped.</summary>
    public string Url => string.Concat(Bytes.Select(b => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~'
        ? ((char)b).ToString()
        : $"%{b:X2}"));

    /// <summary>One char per byte: the client writes header values as Latin-1, so these bytes go out unchanged.</summary>
    public string? Header => Bytes.Any(b => b is (byte)'\r' or (byte)'\n') ? null : Encoding.Latin1.GetString(Bytes);

    /// <summary>Bytes Kestrel refuses in a header before any middleware runs (RFC 9110 field values, UTF-8).</summary>
    public bool InvalidInHeader => Bytes.Any(b => (b < 0x20 && b != '\t') || b == 0x7F) || !IsUtf8(Bytes);

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}

public static class HostileValues
{
    public const int OneMegabyte = 1024 * 1024;
    public const int TwentyMegabytes = 20 * 1024 * 1024;
    public const int Depth = 10_000;

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Each string sent in every place a string goes: body properties, path and query parameters, form fields, keys.</summary>
    public static readonly IReadOnlyList<HostileString> Strings =
    [
        Of("NUL", "sweep\0nul", mustBeRefused: true),
        new("lone high surrogate", "\"\\ud800\"", [0xED, 0xA0, 0x80], MustBeRefused: true),
        new("lone low surrogate", "\"x\\udfffx\"", [(byte)'x', 0xED, 0xBF, 0xBF, (byte)'x'], MustBeRefused: true),
        Of("5,000 characters", new string('a', 5000)),
        Of("path traversal", "../../etc/passwd"),
        Of("SQL injection", "' OR 1=1 --"),
        Of("script tag", "<script>alert(1)</script>"),
        Of("template expression", "{{7*7}}"),
        Of("JNDI lookup", "${jndi:ldap://x}"),
        Of("catastrophic regex", "^(a+)+$"),
        Of("unbalanced regex", "(("),
        Of("format specifiers", "%s%n%x%d"),
        Of("CR LF", "sweep\r\nX-Injected: 1"),
        Of("non-ASCII", "ключ🔑"),
        Of("bidi override", "\u202egnp.exe"),
        Of("empty", ""),
        Of("whitespace", " \t "),
        Of("year 9999", "9999-12-31T23:59:59Z"),
        Of("year 0001", "0001-01-01T00:00:00Z"),
        Of("1e308", "1e308"),
        Of("2^63", "9223372036854775808"),
        Of("NaN", "NaN"),
        Of("-1", "-1"),
        Of("loopback URL", "http://127.0.0.1:1/x"),
        Of("the word null", "null"),
    ];

    /// <summary>Numbers past every range the services read, as raw JSON; <c>Overflow</c> ones fit no integer.</summary>
    public static readonly IReadOnlyList<(string Name, string Json, bool OverflowsIntegers, bool NotANumber)> Numbers =
    [
        ("1e308", "1e308", true, false),
        ("-1e308", "-1e308", true, false),
        ("1e28", "1e28", true, false),
        ("2^63", "9223372036854775808", true, false),
        ("-2^63-1", "-9223372036854775809", true, false),
        ("1e1000", "1e1000", true, false),
        ("0.5", "0.5", true, false),
        ("-1", "-1", false, false),
        ("0", "0", false, false),
        ("NaN as a string", "\"NaN\"", true, true),
    ];

    public static readonly IReadOnlyList<(string Name, string Value)> Dates =
    [
        ("year 9999", "9999-12-31"),
        ("year 0001", "0001-01-01"),
    ];

    public static HostileString Of(string name, string text, bool mustBeRefused = false) =>
        new(name, JsonSerializer.Serialize(text, Relaxed), Encoding.UTF8.GetBytes(text), mustBeRefused);

    public static string Quote(string text) => JsonSerializer.Serialize(text, Relaxed);

    /// <summary>Values of the wrong JSON type for <paramref name="kind"/>; none for a value of any type.</summary>
    public static IReadOnlyList<(string Name, string Json)> WrongTypes(SchemaKind kind) => kind switch
    {
        SchemaKind.String => [("a number", "42"), ("true", "true"), ("an object", "{}"), ("an array", "[]")],
        SchemaKind.Integer or SchemaKind.Number => [("a word", "\"sweep\""), ("true", "true"), ("an object", "{}"), ("an array", "[]")],
        SchemaKind.Boolean => [("a string", "\"true\""), ("a number", "1"), ("an object", "{}"), ("an array", "[]")],
        SchemaKind.Array => [("an object", "{}"), ("a string", "\"sweep\""), ("a number", "42")],
        SchemaKind.Object => [("an array", "[]"), ("a string", "\"sweep\""), ("a number", "42")],
        _ => [],
    };

    public static string NestedArrays => new string('[', Depth) + new string(']', Depth);

    public static string NestedObjects => string.Concat(Enumerable.Repeat("{\"a\":", Depth)) + "1" + new string('}', Depth);
}
