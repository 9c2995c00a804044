// Asks a model (an alias, or an agent as "agent:<name>") with the official OpenAI client, plain or streamed, and prints
// the completion (plain) or the text it streamed and the last chunk's usage (streamed) as JSON.
//   node chat.mjs <model> <plain|stream> <message>
import OpenAI from "openai";

const [model, mode, content] = process.argv.slice(2);
const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY });
const messages = [{ role: "user", content }];
if (mode === "plain") {
  console.log(JSON.stringify(await client.chat.completions.create({ model, messages })));
} else {
  const stream = await client.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let chunks = 0;
  let usage = null;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? "";
    usage = chunk.usage ?? usage;
  }
  console.log(JSON.stringify({ text, chunks, usage }));
}
