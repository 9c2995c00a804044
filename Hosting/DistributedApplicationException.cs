namespace Platform.Hosting;

/// <summary>A problem the user can fix (a taken port, a missing binary); reported as one line, never a stack trace.</summary>
public sealed class DistributedApplicationException(string message, Exception? inner = null) : Exception(message, inner);
