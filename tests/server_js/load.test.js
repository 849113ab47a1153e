// Load: 32 concurrent streaming clients on loopback, every stream complete and equal to the
// same request run alone (greedy), with throughput and latency printed; and batching: 8
// requests at once must give clearly more tokens/s than the same 8 one after another.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTiny, percentile, startServer } from './helpers.js';

const kClients = 32;
const kMaxTokens = 64;
let server;
let client;

before(async () => {
  server = await startServer(makeTiny(), ['--max-batch', '8', '--max-concurrent', '64']);
  client = server.client();
});
after(async () => {
  assert.equal(await server.stop(), 0, server.log());
});

const prompts = Array.from({ length: 8 }, (_, i) => `Request number ${i}: once upon a time`);
const params = (i) => ({ model: 'tiny', prompt: prompts[i % prompts.length], max_tokens: kMaxTokens, temperature: 0 });

async function streamed(i) {
  const start = performance.now();
  const stream = await client.completions.create({ ...params(i), stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.text ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, usage, seconds: (performance.now() - start) / 1000 };
}

async function alone(i) {
  return (await client.completions.create(params(i))).choices[0].text;
}

test(`${kClients} concurrent streams lose and duplicate nothing`, { timeout: 60000 }, async () => {
  const expected = [];
  for (let i = 0; i < prompts.length; ++i) expected.push(await alone(i));
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: kClients }, (_, i) => streamed(i)));
  const seconds = (performance.now() - start) / 1000;
  let tokens = 0;
  results.forEach((r, i) => {
    assert.equal(r.text, expected[i % prompts.length], `stream ${i}`);
    assert.equal(r.usage.completion_tokens, kMaxTokens, `stream ${i}`);
    tokens += r.usage.completion_tokens;
  });
  const latencies = results.map((r) => r.seconds);
  console.log(`load: ${kClients} streams, ${tokens} tokens in ${seconds.toFixed(2)} s = ` +
              `${(tokens / seconds).toFixed(0)} tokens/s; latency p50 ${percentile(latencies, 50).toFixed(3)} s, ` +
              `p99 ${percentile(latencies, 99).toFixed(3)} s`);
});

// Plain decoding (speculative 0), so that the gain is the batch's alone; best of three
// alternating rounds each, since the machine may be shared.
test('8 requests at once beat the same 8 one at a time', { timeout: 60000 }, async () => {
  const plain = (i) => ({ ...params(i), speculative: 0 });
  const run = async (batched) => {
    const start = performance.now();
    let tokens = 0;
    if (batched) {
      const all = await Promise.all(prompts.map((_, i) => client.completions.create(plain(i))));
      for (const r of all) tokens += r.usage.completion_tokens;
    } else {
      for (let i = 0; i < prompts.length; ++i) tokens += (await client.completions.create(plain(i))).usage.completion_tokens;
    }
    return tokens / ((performance.now() - start) / 1000);
  };
  await run(true);  // warm up: connections open
  let serial = 0;
  let batched = 0;
  for (let round = 0; round < 3; ++round) {
    serial = Math.max(serial, await run(false));
    batched = Math.max(batched, await run(true));
  }
  console.log(`batching: one at a time ${serial.toFixed(0)} tokens/s, 8 at once ${batched.toFixed(0)} tokens/s, ` +
              `ratio ${(batched / serial).toFixed(2)}`);
  assert.ok(batched > 1.25 * serial, `8 at once ${batched.toFixed(0)} tokens/s vs ${serial.toFixed(0)} one at a time`);
});
