using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Platform.Dashboard.Status;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Apis;

/// <summary>Server-rendered HTML: every value from outside is encoded.</summary>
internal static class Pages
{
    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #1d232a; }
        h1 { font-size: 1.4rem; } table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid #dde1e6; }
        .Healthy { color: #0a7d32; font-weight: 600; } .Unhealthy, .Unreachable { color: #b42318; font-weight: 600; }
        .muted { color: #5c6670; font-size: .9rem; } form.inline { display: inline; }
        input[type=password] { width: 28rem; padding: .4rem; } button { padding: .4rem .9rem; } .error { color: #b42318; }
        """;

    public static string Login(string? error)
    {
        var errorLine = error is null ? "" : $"<p class=\"error\" role=\"alert\">{Encode(error)}</p>";
        return Layout("Sign in", $"""
            <h1>Platform dashboard</h1>
            <p>Sign in with an API key.</p>
            {errorLine}
            <form method="post" action="/login">
              <label>API key <input type="password" name="apiKey" autocomplete="off" required></label>
              <button type="submit">Sign in</button>
            </form>
            """);
    }

    public static string Status(IReadOnlyList<ServiceStatusDto> statuses, ClaimsPrincipal user)
    {
        var rows = new StringBuilder();
        foreach (var status in statuses)
        {
            var checks = string.Join(", ", status.Checks.Select(c => $"{c.Key}: {c.Value}"));
            rows.AppendLine($"""
                <tr data-service="{Encode(status.Name)}">
                  <td>{Encode(status.Name)}</td>
                  <td class="{Encode(status.Status)}">{Encode(status.Status)}</td>
                  <td class="muted">{Encode(status.Error ?? checks)}</td>
                  <td class="muted">{status.LatencyMs} ms</td>
                  <td class="muted">{Encode(status.Url ?? "")}</td>
                </tr>
                """);
        }

        return Layout("Services", $"""
            <h1>Services</h1>
            <p class="muted">Signed in to tenant <strong>{Encode(user.TenantId())}</strong>. Refreshes every 5 seconds.
              <form class="inline" method="post" action="/logout"><button type="submit">Sign out</button></form></p>
            <table>
              <thead><tr><th>Service</th><th>Health</th><th>Checks</th><th>Probe</th><th>URL</th></tr></thead>
              <tbody>
            {rows}
              </tbody>
            </table>
            """, refreshSeconds: 5);
    }

    private static string Layout(string title, string body, int? refreshSeconds = null)
    {
        var refresh = refreshSeconds is { } seconds ? $"<meta http-equiv=\"refresh\" content=\"{seconds}\">" : "";
        return $"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
            <title>{Encode(title)} · Platform</title><style>{Style}</style></head>
            <body>
            {body}
            </body>
            </html>
            """;
    }

    private static string Encode(string value) => HtmlEncoder.Default.Encode(value);
}
