// Embeds the texts given as arguments with the official OpenAI client, as a JS application would (its default
// encoding, base64, decoded by the client), and prints the response as JSON.
import OpenAI from "openai";

const [model, ...input] = process.argv.slice(2);
const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY });
const response = await client.embeddings.create({ model, input });
console.log(JSON.stringify(response));
