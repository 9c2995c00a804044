using System.Text;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Tests.Sweep;

/// <summary>
/// The hostile requests for one operation: each one is the operation's valid request made wrong in one place (its key,
/// a header, a path or query parameter, the body as a whole, one value in the body, a form field).
/// </summary>
public sealed partial class HostileRequests
{
    private readonly SweepIdentity _identity;
    private readonly BodyVariants? _body;
    private readonly string _key;

    public HostileRequests(SweepOperation operation, SweepIdentity identity)
    {
        Operation = operation;
        _identity = identity;
        var body = SweepSeeds.Body(operation, identity) ?? (operation.BodySchema is null ? null : Schemas.Example(operation.Document, operation.BodySchema));
        _body = body is null ? null : new BodyVariants(operation.Document, body, operation.BodySchema);
        _key = SweepSeeds.NeedsPlatformAdmin(operation) ? identity.PlatformAdminKey : identity.AdminKey;
    }

    public SweepOperation Operation { get; }

    /// <summary>The operation's valid request, which every hostile one departs from.</summary>
    public HostileRequest Valid(string name) => new(Operation, name, Path(), [Authorization($"Bearer {_key}")], ValidBody());

    public IEnumerable<HostileRequest> All() =>
        [.. Keys(), .. Cookies(), .. Headers(), .. PathParameters(), .. QueryParameters(), .. Bodies(), .. Forms(), .. UnexpectedBodies()];

    private IEnumerable<HostileRequest> Keys()
    {
        var valid = Valid("");
        HostileRequest With(string name, string? authorization, bool mustBeRefused = true, bool invalidHttp = false) => valid with
        {
            Case = $"key: {name}",
            Headers = authorization is null ? [] : [Authorization(authorization)],
            MustBeRefused = Operation.RequiresKey && mustBeRefused,
            InvalidHttp = invalidHttp,
        };

        yield return With("no Authorization header", null);
        yield return With("Bearer and nothing else", "Bearer");
        foreach (var value in HostileValues.Strings.Where(v => v.Header is not null))
        {
            yield return With(value.Name, $"Bearer {value.Header}", invalidHttp: value.InvalidInHeader);
        }

        yield return With("10 KB", $"Bearer plt_{new string('k', 10 * 1024)}");
        yield return With("Basic credentials", "Basic c3dlZXA6c3dlZXA=");
        yield return With("unknown, of the right shape", $"Bearer plt_{Guid.NewGuid():N}");
        yield return With("the admin key and a NUL", $"Bearer {_identity.AdminKey}\0", invalidHttp: true);
        yield return With("the admin key and one more character", $"Bearer {_identity.AdminKey}x");
        yield return With("revoked", $"Bearer {_identity.RevokedKey}");
        yield return With("without the needed scope", $"Bearer {_identity.NoScopeKey}", mustBeRefused: Operation.IsWrite);
    }

    /// <summary>The dashboard also takes its key from a cookie, a second way in.</summary>
    private IEnumerable<HostileRequest> Cookies()
    {
        if (Operation.Service != "dashboard")
        {
            yield break;
        }

        var valid = Valid("");
        HostileRequest With(string name, string value, bool invalidHttp = false) => valid with
        {
            Case = $"cookie: {name}",
            Headers = [new("Cookie", $"{ApiKeyAuthenticationHandler.CookieName}={value}")],
            InvalidHttp = invalidHttp,
        };

        foreach (var value in HostileValues.Strings.Where(v => v.Header is not null))
        {
            yield return With(value.Name, value.Header!, value.InvalidInHeader);
        }

        yield return With("10 KB", $"plt_{new string('k', 10 * 1024)}");
        yield return With("revoked", _identity.RevokedKey);
        yield return With("without the needed scope", _identity.NoScopeKey);
        yield return With("the admin key", _identity.AdminKey);
    }

    private IEnumerable<HostileRequest> Headers()
    {
        var valid = Valid("");
        (string Name, string Header, string Value)[] headers =
        [
            ("Accept: application/xml", "Accept", "application/xml"),
            ("Accept with a malformed quality", "Accept", "*/*;q=abc"),
            ("Accept-Charset: utf-7", "Accept-Charset", "utf-7"),
            ("Accept-Encoding with NaN qualities", "Accept-Encoding", "gzip;q=NaN, br;q=-1"),
            ("If-Modified-Since in year 9999", "If-Modified-Since", "Fri, 31 Dec 9999 23:59:59 GMT"),
            ("If-Modified-Since in year 0001", "If-Modified-Since", "Mon, 01 Jan 0001 00:00:00 GMT"),
            ("Range past 2^64", "Range", "bytes=99999999999999999999-"),
            ("malformed traceparent", "traceparent", "00-zzzz-zzzz-01"),
            ("all-zero traceparent", "traceparent", "00-00000000000000000000000000000000-0000000000000000-01"),
            ("10 KB tracestate", "tracestate", $"k={new string('v', 10 * 1024)}"),
            ("10 KB baggage", "baggage", $"k={new string('v', 10 * 1024)}"),
            ("X-Forwarded-For injection", "X-Forwarded-For", "' OR 1=1 --"),
            ("X-Forwarded-Host script", "X-Forwarded-Host", "<script>"),
            ("X-HTTP-Method-Override: DELETE", "X-HTTP-Method-Override", "DELETE"),
            ("Origin: null", "Origin", "null"),
            ("x-platform-cache injection", "x-platform-cache", "' OR 1=1 --"),
            ("x-platform-cache: true", "x-platform-cache", "true"),
            ("Idempotency-Key lookup", "Idempotency-Key", "${jndi:ldap://x}"),
            ("Expect: 100-continue", "Expect", "100-continue"),
        ];
        foreach (var (name, header, value) in headers)
        {
            yield return valid with { Case = $"header: {name}", Headers = [.. valid.Headers, new(header, value)] };
        }

        yield return valid with { Case = "header: Host: <script>", Headers = [.. valid.Headers, new("Host", "<script>")], InvalidHttp = true };
        yield return valid with
        {
            Case = "header: 64 KB of headers",
            Headers = [.. valid.Headers, .. Enumerable.Range(0, 64).Select(i => KeyValuePair.Create($"X-Sweep-{i}", new string('h', 1024)))],
            InvalidHttp = true,
        };
    }

    private IEnumerable<HostileRequest> PathParameters()
    {
        var valid = Valid("");
        foreach (var parameter in Operation.Parameters.Where(p => p.In == "path"))
        {
            IEnumerable<(string Name, string Url)> values =
                [.. HostileValues.Strings.Select(v => (v.Name, v.Url)), ("NUL alone", "%00"), ("encoded dot segment", "%2e%2e"), ("encoded slash", "sweep%2Fsweep")];
            foreach (var (name, url) in values)
            {
                // Kestrel refuses a NUL in the path before routing: invalid HTTP, and never a stored write.
                var nul = url.Contains("%00", StringComparison.Ordinal);
                yield return valid with { Case = $"path {parameter.Name}: {name}", Target = Path(parameter.Name, url), MustBeRefused = nul && Operation.IsWrite, InvalidHttp = nul };
            }
        }
    }

    private IEnumerable<HostileRequest> QueryParameters()
    {
        var valid = Valid("");
        var parameters = Operation.Parameters.Where(p => p.In == "query").ToList();
        foreach (var parameter in parameters)
        {
            var name = Uri.EscapeDataString(parameter.Name);
            IEnumerable<(string Case, string Query)> values =
            [
                .. HostileValues.Strings.Select(v => (v.Name, $"{name}={v.Url}")),
                .. HostileValues.Numbers.Select(n => (n.Name, $"{name}={Uri.EscapeDataString(n.Json.Trim('"'))}")),
                .. IsDate(parameter) ? HostileValues.Dates.Select(d => (d.Name, $"{name}={d.Value}")) : [],
                ("repeated", $"{name}=1&{name}=2"),
                ("without a value", name),
                ("empty", $"{name}="),
            ];
            foreach (var (@case, query) in values.DistinctBy(v => v.Case))
            {
                yield return valid with { Case = $"query {parameter.Name}: {@case}", Target = $"{Path()}?{query}" };
            }
        }

        var dates = parameters.Where(IsDate).ToList();
        foreach (var (name, value) in dates.Count > 0 ? HostileValues.Dates : [])
        {
            yield return valid with { Case = $"query: every date in {name}", Target = $"{Path()}?{string.Join("&", dates.Select(d => $"{d.Name}={value}"))}" };
        }

        if (dates.Count > 1)
        {
            var span = string.Join("&", dates.Select((d, i) => $"{d.Name}={(i == 0 ? HostileValues.Dates[1].Value : HostileValues.Dates[0].Value)}"));
            yield return valid with { Case = "query: from year 0001 to year 9999", Target = $"{Path()}?{span}" };
        }
    }

    private IEnumerable<HostileRequest> Bodies()
    {
        if (_body is not { } body)
        {
            yield break;
        }

        // An endpoint that binds a declared JSON body refuses anything else; one that reads JSON itself may be laxer.
        var declared = Operation.BodySchema is not null;
        var required = declared && Operation.BodyRequired;
        var valid = Valid("");
        HostileRequest With(string name, Func<HttpContent?>? content, bool mustBeRefused) =>
            valid with { Case = $"body: {name}", Body = content, MustBeRefused = mustBeRefused };
        HostileRequest Json(string name, Func<string> text, bool mustBeRefused) => With(name, () => SweepContent.Json(text()), mustBeRefused);

        yield return Json("malformed JSON: cut short", () => body.Text[..^1], declared);
        yield return Json("malformed JSON: not JSON", () => "sweep", declared);
        yield return Json("malformed JSON: single quotes", () => "{'sweep': 1}", declared);
        yield return Json("malformed JSON: trailing comma", () => body.Text[..^1] + ",}", declared);
        yield return Json("malformed JSON: a comment", () => "/* sweep */" + body.Text, declared);
        if (body.HasString)
        {
            yield return With("malformed JSON: invalid UTF-8 in a value", () =>
            {
                var (prefix, suffix) = body.AroundFirstString();
                return SweepContent.Raw([.. Encoding.UTF8.GetBytes(prefix), 0xC3, 0x28, .. Encoding.UTF8.GetBytes(suffix)], "application/json");
            }, declared);
        }

        yield return With("malformed JSON: invalid UTF-8 in an unknown property", () => SweepContent.Raw([.. "{\"sweep\":\""u8, 0xC3, 0x28, .. "\"}"u8], "application/json"), declared);
        yield return Json("empty", () => "", required);
        yield return With("none", () => null, required);
        yield return Json("a top-level array", () => "[]", declared);
        yield return Json("a top-level number", () => "42", declared);
        yield return Json("a top-level string", () => "\"sweep\"", declared);
        yield return Json("a top-level true", () => "true", declared);
        yield return Json("a top-level null", () => "null", required);
        yield return Json("the valid body inside an array", () => $"[{body.Text}]", declared);
        yield return Json("10,000 nested arrays", () => HostileValues.NestedArrays, declared);
        yield return Json("10,000 nested objects", () => HostileValues.NestedObjects, declared);
        yield return With("20 MB of JSON", () =>
        {
            var (prefix, suffix) = body.AroundFirstString();
            return SweepContent.Huge(prefix, suffix, "application/json");
        }, declared);
        // A careful client announces a big body and waits: a limit can then be answered before a byte of it is sent.
        yield return With("20 MB of JSON after Expect: 100-continue", () =>
        {
            var (prefix, suffix) = body.AroundFirstString();
            return SweepContent.Huge(prefix, suffix, "application/json");
        }, declared) with { Headers = [.. valid.Headers, new("Expect", "100-continue")] };
        yield return With("text/plain", () => SweepContent.Json(body.Text, "text/plain"), declared);
        yield return With("application/x-www-form-urlencoded", () => SweepContent.Json("sweep=1&name=x", "application/x-www-form-urlencoded"), declared);
        yield return With("multipart/form-data with a 20 MB part", () => SweepContent.MultipartWithHugePart([KeyValuePair.Create("sweep", "1"u8.ToArray())]), declared);
        yield return With("no Content-Type", () => SweepContent.Raw(Encoding.UTF8.GetBytes(body.Text), null), declared);
        yield return With("charset=utf-7", () => SweepContent.Json(body.Text, "application/json; charset=utf-7"), false);
        yield return With("Content-Encoding: gzip over plain JSON", () =>
        {
            var content = SweepContent.Json(body.Text);
            content.Headers.ContentEncoding.Add("gzip");
            return content;
        }, false);
        yield return With("chunked", () => SweepContent.Chunked(body.Text), false);
        yield return Json("every key twice", body.EveryKeyTwice, false);
        yield return Json("an unknown property", body.WithUnknownProperty, false);
        foreach (var variant in body.All())
        {
            yield return Json(variant.Name, variant.Text, variant.MustBeRefused);
        }
    }

    private IEnumerable<HostileRequest> Forms()
    {
        if (Operation.FormFields is not { } fields)
        {
            yield break;
        }

        var valid = Valid("");
        HostileRequest With(string name, Func<HttpContent?> content) => valid with { Case = $"form: {name}", Headers = [], Body = content };
        HostileRequest Encoded(string name, string form) => With(name, () => SweepContent.Json(form, "application/x-www-form-urlencoded"));

        foreach (var field in fields)
        {
            foreach (var value in HostileValues.Strings)
            {
                yield return Encoded($"{field} {value.Name}", $"{field}={value.Url}");
                yield return With($"{field} {value.Name}, multipart", () => SweepContent.Multipart([KeyValuePair.Create(field, value.Bytes)]));
            }

            yield return Encoded($"{field} the admin key and a NUL", $"{field}={Uri.EscapeDataString(_identity.AdminKey)}%00");
            yield return Encoded($"{field} revoked", $"{field}={Uri.EscapeDataString(_identity.RevokedKey)}");
            yield return Encoded($"{field} 10 KB", $"{field}=plt_{new string('k', 10 * 1024)}");
            yield return Encoded($"{field} twice", $"{field}=sweep&{field}={Uri.EscapeDataString(_identity.AdminKey)}");
            yield return Encoded($"{field} malformed percent-encoding", $"{field}=%zz%");
            yield return With($"{field} 20 MB", () => SweepContent.Huge($"{field}=", "", "application/x-www-form-urlencoded"));
            yield return With($"{field} beside a 20 MB part, multipart",
                () => SweepContent.MultipartWithHugePart([KeyValuePair.Create(field, Encoding.UTF8.GetBytes(_identity.AdminKey))]));
        }

        yield return Encoded("5,000 fields", string.Join("&", Enumerable.Range(0, 5000).Select(i => $"f{i}=v")));
        yield return Encoded("empty", "");
        yield return With("none", () => null);
        yield return With("JSON", () => SweepContent.Json($"{{\"{fields[0]}\": \"sweep\"}}"));
        yield return With("text/plain", () => SweepContent.Json($"{fields[0]}=sweep", "text/plain"));
        yield return With("multipart without a boundary", () => SweepContent.Json("sweep", "multipart/form-data"));
    }

    /// <summary>Bodies where none is expected: GET and DELETE with bodies, and POSTs that take none.</summary>
    private IEnumerable<HostileRequest> UnexpectedBodies()
    {
        if (_body is not null || Operation.FormFields is not null)
        {
            yield break;
        }

        var valid = Valid("");
        yield return valid with { Case = "unexpected body: JSON", Body = () => SweepContent.Json("{\"sweep\": 1}") };
        yield return valid with { Case = "unexpected body: malformed JSON", Body = () => SweepContent.Json("{") };
        yield return valid with { Case = "unexpected body: 1 MB", Body = () => SweepContent.Json(new string('a', HostileValues.OneMegabyte), "application/octet-stream") };
    }

    private Func<HttpContent?>? ValidBody() =>
        _body is { } body ? () => SweepContent.Json(body.Text)
        : Operation.FormFields is { } fields ? () => new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f, _identity.AdminKey)))
        : null;

    /// <summary>The path with valid values, or with <paramref name="hostile"/> set to <paramref name="url"/> (already encoded).</summary>
    private string Path(string? hostile = null, string? url = null) =>
        PathParameter().Replace(Operation.Path, m => m.Groups[1].Value == hostile
            ? url!
            : Uri.EscapeDataString(SweepSeeds.PathValue(Operation,
                Operation.Parameters.FirstOrDefault(p => p.Name == m.Groups[1].Value) ?? new(m.Groups[1].Value, "path", null), _identity)));

    private static bool IsDate(SweepParameter parameter) =>
        (string?)parameter.Schema?["format"] is "date" or "date-time" || DateName().IsMatch(parameter.Name);

    private static KeyValuePair<string, string> Authorization(string value) => new("Authorization", value);

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex PathParameter();

    [GeneratedRegex("^(from|to|since|until|before|after|start|end)$|date", RegexOptions.IgnoreCase)]
    private static partial Regex DateName();
}
