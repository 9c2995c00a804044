using System.Text.Json;
using Platform.Model.Providers;

namespace Platform.Model.Gateway;

/// <summary>Writes completions and stream chunks exactly in OpenAI's wire shape.</summary>
public static class ChatCompletionWriter
{
    // Like OpenAI's own responses: UTF-8 as is, without escaping quotes, apostrophes or angle brackets as \uXXXX.
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Completion(ChatCompletion completion, string systemFingerprint)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            WriteHeader(json, completion.Id, "chat.completion", completion.Created, completion.Model, systemFingerprint);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            WriteNullableString(json, "content", completion.Message.Content);
            json.WriteNull("refusal");
            if (completion.Message.ToolCalls.Count > 0)
            {
                json.WriteStartArray("tool_calls");
                foreach (var call in completion.Message.ToolCalls)
                {
                    json.WriteStartObject();
                    json.WriteString("id", call.Id);
                    json.WriteString("type", "function");
                    json.WriteStartObject("function");
                    json.WriteString("name", call.Name);
                    json.WriteString("arguments", call.Arguments);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteNull("logprobs");
            json.WriteString("finish_reason", completion.FinishReason);
            json.WriteEndObject();
            json.WriteEndArray();
            WriteUsage(json, completion.Usage);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// One <c>data:</c> line's JSON; usage goes in its own final chunk with no choices, as OpenAI sends it, with the
    /// gateway's <c>cost_usd</c> (a JSON number) added to it when <paramref name="costUsd"/> is given.
    /// </summary>
    public static byte[] Chunk(ChatChunk chunk, string id, long created, string model, string systemFingerprint, bool includeUsage, string? costUsd = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            WriteHeader(json, id, "chat.completion.chunk", created, model, systemFingerprint);
            json.WriteStartArray("choices");
            if (chunk.Usage is null || chunk.FinishReason is not null)
            {
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                json.WriteStartObject("delta");
                if (chunk.Role is not null)
                {
                    json.WriteString("role", chunk.Role);
                }

                if (chunk.Content is not null)
                {
                    json.WriteString("content", chunk.Content);
                }

                if (chunk.ToolCalls.Count > 0)
                {
                    json.WriteStartArray("tool_calls");
                    foreach (var call in chunk.ToolCalls)
                    {
                        json.WriteStartObject();
                        json.WriteNumber("index", call.Index);
                        if (call.Id is not null)
                        {
                            json.WriteString("id", call.Id);
                            json.WriteString("type", "function");
                        }

                        json.WriteStartObject("function");
                        if (call.Name is not null)
                        {
                            json.WriteString("name", call.Name);
                        }

                        json.WriteString("arguments", call.Arguments);
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
                json.WriteNull("logprobs");
                WriteNullableString(json, "finish_reason", chunk.FinishReason);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (includeUsage)
            {
                if (chunk.Usage is not null && chunk.FinishReason is null)
                {
                    WriteUsage(json, chunk.Usage, costUsd);
                }
                else
                {
                    json.WriteNull("usage");
                }
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteHeader(Utf8JsonWriter json, string id, string type, long created, string model, string systemFingerprint)
    {
        json.WriteString("id", id);
        json.WriteString("object", type);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteString("system_fingerprint", systemFingerprint);
    }

    private static void WriteUsage(Utf8JsonWriter json, Usage usage, string? costUsd = null)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        if (costUsd is not null)
        {
            json.WritePropertyName("cost_usd");
            json.WriteRawValue(costUsd);
        }

        json.WriteEndObject();
    }

    private static void WriteNullableString(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
