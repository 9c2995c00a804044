namespace Platform.Model.Catalog;

/// <summary>
/// The ranges a deployment's settings must lie in: checked when a tenant writes an alias, and applied again when one
/// is read, so that a value stored before these bounds existed cannot fail a request either.
/// </summary>
public static class DeploymentBounds
{
    public const int MaxDeployments = 20;
    public const int MaxNameLength = 128;
    public const int MaxModelLength = 256;
    public const int MaxApiKeyLength = 4096;
    public const decimal MaxPricePerMillion = 1_000_000m;
    public const int MaxContextWindow = 10_000_000;
    public const int MaxWeight = 1000;
    public const int MaxRpm = 10_000_000;
    public const int MaxTpm = 1_000_000_000;
    public static readonly TimeSpan MinAttemptTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromMinutes(10);

    public static decimal Price(decimal price) => Math.Clamp(price, 0m, MaxPricePerMillion);

    public static int ContextWindow(int tokens) => Math.Clamp(tokens, 1, MaxContextWindow);

    public static int Weight(int weight) => Math.Clamp(weight, 1, MaxWeight);

    public static TimeSpan? AttemptTimeout(TimeSpan? timeout) =>
        timeout is { } t ? TimeSpan.FromTicks(Math.Clamp(t.Ticks, MinAttemptTimeout.Ticks, MaxAttemptTimeout.Ticks)) : null;
}
