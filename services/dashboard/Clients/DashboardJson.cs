using System.Text.Json;

namespace Platform.Dashboard.Clients;

internal static class DashboardJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
