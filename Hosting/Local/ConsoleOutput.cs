namespace Platform.Hosting.Local;

/// <summary>One writer for the AppHost's own lines and every resource's log lines, each prefixed with its name.</summary>
internal sealed class ConsoleOutput(TextWriter? writer)
{
    private readonly Lock _gate = new();
    private readonly TextWriter _writer = writer ?? Console.Out;

    public void Line(string source, string text)
    {
        lock (_gate)
        {
            _writer.WriteLine($"[{source}] {text}");
            _writer.Flush();
        }
    }

    public void Block(string text)
    {
        lock (_gate)
        {
            _writer.Write(text);
            _writer.Flush();
        }
    }
}
