namespace Platform.Tests.Sweep;

/// <summary>
/// One request of the sweep. <paramref name="MustBeRefused"/>: the input is invalid whatever the endpoint does (a missing
/// or wrong key, unreadable JSON, a wrong type, a NUL), so a write must answer 4xx and store nothing.
/// <paramref name="InvalidHttp"/>: the request breaks HTTP itself (a NUL in a header, say), so Kestrel may refuse it before
/// any middleware could shape the answer.
/// </summary>
public sealed record HostileRequest(
    SweepOperation Operation,
    string Case,
    string Target,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    Func<HttpContent?>? Body,
    bool MustBeRefused = false,
    bool InvalidHttp = false)
{
    public override string ToString() => $"{Operation.Name} [{Case}]";

    /// <summary>Whether, accepted, this request stores something other than the valid request does.</summary>
    public bool ChangesStoredValue =>
        Operation.Method is "PUT" or "PATCH" && (Case.StartsWith("body:", StringComparison.Ordinal) || Case.StartsWith("path ", StringComparison.Ordinal));

    public HttpRequestMessage ToMessage(Uri service)
    {
        // The target goes out exactly as built: no unescaping of %2F, %2e%2e or %00.
        var url = new Uri(service.GetLeftPart(UriPartial.Authority) + Target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var message = new HttpRequestMessage(new HttpMethod(Operation.Method), url) { Content = Body?.Invoke() };
        foreach (var (name, value) in Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return message;
    }
}
