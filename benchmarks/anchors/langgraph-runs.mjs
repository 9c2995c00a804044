#!/usr/bin/env node
// LangGraph JS beside the platform's runs suite (benchmarks/Platform.Benchmarks/RunsSuite.cs), on the same PostgreSQL.
//
//   node langgraph-runs.mjs --graph=planned|noop --concurrency=1 --duration=20 --durability=sync|async
//   PG_URL=postgresql://…   MOCK_URL=http://127.0.0.1:PORT (planned only)
//
// planned: the like-for-like shape of one of our runs. A planner node asks the mock upstream for a plan (one
// completion, the platform_plan JSON schema), then a step node runs once per planned step, each streaming a completion
// from the same upstream and writing every token to the client (streamMode "custom"), as our event stream carries
// token deltas. The client consumes graph.stream() to the end.
// noop: three nodes of trivial work and no model call, the engine alone.
//
// After its warm-up it prints "ready" and waits for a line on stdin, so the caller can read its counters; it prints one
// JSON line (runs, runs/s, latency percentiles, SQL statements and transactions per run, this process's CPU), then
// waits for another line before it closes its connections, so the caller reads the counters of the same backends.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import readline from 'node:readline';
import pg from 'pg';
import { StateGraph, Annotation, START, END } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  return m ? [m[1], m[2]] : [a.replace(/^--/, ''), 'true'];
}));
const GRAPH = args.graph ?? 'planned';
const C = Number(args.concurrency ?? 1);
const DURATION_S = Number(args.duration ?? 20);
const WARMUP_S = Number(args.warmup ?? 1);
const DURABILITY = args.durability ?? 'sync';
const MOCK_URL = process.env.MOCK_URL;
setTimeout(() => { console.error('time limit reached'); process.exit(3); }, (WARMUP_S + DURATION_S + 300) * 1000).unref();

let statements = 0;
let transactions = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  statements++;
  if (config === 'BEGIN') transactions++;
  return query.call(this, config, ...rest);
};

async function complete(body) {
  const response = await fetch(`${MOCK_URL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer mock' },
    body: JSON.stringify({ model: 'mock', ...body }),
  });
  if (!response.ok) throw new Error(`upstream ${response.status}`);
  return response;
}

async function streamText(body, write) {
  const response = await complete({ ...body, stream: true, stream_options: { include_usage: true } });
  const decoder = new TextDecoder();
  let buffered = '';
  let text = '';
  for await (const bytes of response.body) {
    buffered += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const delta = JSON.parse(event.slice(6)).choices?.[0]?.delta?.content;
      if (delta) {
        text += delta;
        write?.(delta);
      }
    }
  }
  return text;
}

function planned() {
  const State = Annotation.Root({
    goal: Annotation(),
    steps: Annotation(),
    outputs: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const plan = async (s) => {
    const response = await complete({
      messages: [{ role: 'system', content: 'You plan.' }, { role: 'user', content: JSON.stringify({ goal: s.goal }) }],
      response_format: { type: 'json_schema', json_schema: { name: 'platform_plan', strict: true, schema: { type: 'object' } } },
      temperature: 0,
    });
    const answer = await response.json();
    return { steps: JSON.parse(answer.choices[0].message.content).steps };
  };
  const step = async (s, config) => {
    const next = s.steps[s.outputs.length];
    const text = await streamText({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `${next.instruction}\n${s.outputs.at(-1) ?? s.goal}` }],
    }, config.writer);
    return { outputs: [text] };
  };
  return new StateGraph(State)
    .addNode('plan', plan)
    .addNode('step', step)
    .addEdge(START, 'plan')
    .addEdge('plan', 'step')
    .addConditionalEdges('step', (s) => (s.outputs.length < s.steps.length ? 'step' : END));
}

function noop() {
  const State = Annotation.Root({ task: Annotation(), steps: Annotation(), results: Annotation(), summary: Annotation() });
  return new StateGraph(State)
    .addNode('plan', async (s) => ({ steps: ['a', 'b', 'c'].map((x) => `${x}:${s.task}`) }))
    .addNode('act', async (s) => ({ results: s.steps.map((p) => ({ step: p, ok: true })) }))
    .addNode('finish', async (s) => ({ summary: `${s.results.filter((r) => r.ok).length}/${s.results.length}` }))
    .addEdge(START, 'plan').addEdge('plan', 'act').addEdge('act', 'finish').addEdge('finish', END);
}

const pool = new pg.Pool({ connectionString: process.env.PG_URL, max: 10 });
const checkpointer = new PostgresSaver(pool);
await checkpointer.setup();
await pool.query('TRUNCATE checkpoints, checkpoint_blobs, checkpoint_writes');
const graph = (GRAPH === 'planned' ? planned() : noop()).compile({ checkpointer });
const prefix = randomUUID().slice(0, 8);
let sequence = 0;
let failures = 0;
let lastError = '';

async function runOnce(id) {
  const input = GRAPH === 'planned' ? { goal: `Outline topic ${id}, then draft a paragraph, then summarise it` } : { task: id };
  const stream = await graph.stream(input, { configurable: { thread_id: id }, durability: DURABILITY, streamMode: ['updates', 'custom'] });
  let tokens = 0;
  let steps = 0;
  for await (const [mode, chunk] of stream) {
    if (mode === 'custom') tokens++;
    else if (chunk.step || chunk.act || chunk.finish) steps++;
  }
  const expected = GRAPH === 'planned' ? steps === 3 && tokens === Number(args.tokens ?? 32) * 3 : steps === 2;
  if (!expected) throw new Error(`unexpected run: ${steps} steps, ${tokens} tokens`);
}

async function phase(seconds) {
  const deadline = performance.now() + seconds * 1000;
  const latencies = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await runOnce(`${prefix}-${sequence++}`);
        latencies.push(performance.now() - t0);
      } catch (e) {
        failures++;
        lastError = String(e);
      }
    }
  }));
  return { latencies, elapsed: (performance.now() - started) / 1000 };
}

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
await phase(WARMUP_S);
failures = 0;
console.log('ready');
await lines.next();
const [statements0, transactions0, cpu0] = [statements, transactions, process.cpuUsage()];
const { latencies, elapsed } = await phase(DURATION_S);
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const percentile = (p) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)];
const runs = latencies.length;
console.log(JSON.stringify({
  graph: GRAPH, concurrency: C, durability: DURABILITY, runs, failures, lastError,
  runsPerSecond: runs / elapsed, p50: percentile(0.5), p99: percentile(0.99),
  statementsPerRun: (statements - statements0) / runs, transactionsPerRun: (transactions - transactions0) / runs,
  cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs, elapsed,
}));
await lines.next();
await pool.end();
process.exit(0);
