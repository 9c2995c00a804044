// Drives the orchestrator's MCP server with the official MCP TypeScript SDK client, as an MCP host would, and
// prints one JSON line per thing seen: the tools listed, each progress notification, and the call's result or error.
//   node agents.mjs <url> list
//   node agents.mjs <url> call <tool> <goal> [cancel-after-progress-matching]
// After a cancellation the session stays open until the run it started is seen ended (through the REST API, with
// the same key), so that what ends the run is the client's notifications/cancelled, not the session closing.
// The API key comes from PLATFORM_API_KEY.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, command, tool, goal, cancelOn] = process.argv.slice(2);
const print = (kind, value) => console.log(JSON.stringify({ kind, value }));

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.PLATFORM_API_KEY}` } },
});
const client = new Client({ name: "platform-tests", version: "1.0.0" });
let runId;
try {
  await client.connect(transport);
  if (command === "list") {
    print("tools", (await client.listTools()).tools);
  } else {
    const abort = new AbortController();
    const result = await client.callTool({ name: tool, arguments: { goal } }, undefined, {
      signal: abort.signal,
      resetTimeoutOnProgress: true,
      timeout: 120000,
      onprogress: (progress) => {
        print("progress", progress);
        runId ??= progress.message?.match(/^run (\S+) accepted$/)?.[1];
        if (cancelOn && progress.message?.includes(cancelOn)) {
          abort.abort("cancelled by the test");
        }
      },
    });
    print("result", result);
  }
} catch (error) {
  print("error", { name: error?.name, code: error?.code, message: String(error?.message ?? error) });
  if (runId) {
    print("run", await ended(runId));
  }
} finally {
  await client.close();
}

async function ended(runId) {
  const deadline = Date.now() + 30000;
  while (true) {
    const response = await fetch(new URL(`/v1/runs/${runId}`, url), { headers: { Authorization: `Bearer ${process.env.PLATFORM_API_KEY}` } });
    const run = await response.json();
    if (["succeeded", "failed", "cancelled", "timed_out"].includes(run.state) || Date.now() > deadline) {
      return { id: run.id, state: run.state };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
