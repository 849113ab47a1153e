// /metrics: a strict Prometheus text-format parse, and the speculative counters equal the
// sum of the per-request statistics the responses report (nextn.spec).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeTiny, parsePrometheus, startServer } from './helpers.js';

let server;
before(async () => {
  server = await startServer(makeTiny());
});
after(async () => {
  assert.equal(await server.stop(), 0, server.log());
});

async function scrape() {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

test('speculative counters are the sum of the requests\' statistics', async () => {
  const client = server.client();
  const before = await scrape();
  const sum = { drafts: 0, draft_tokens: 0, accepted_tokens: 0, per_pos: [], completion: 0, prompt: 0 };
  const add = (spec, usage) => {
    sum.drafts += spec.drafts;
    sum.draft_tokens += spec.draft_tokens;
    sum.accepted_tokens += spec.accepted_tokens;
    spec.accepted_per_position.forEach((n, i) => { sum.per_pos[i] = (sum.per_pos[i] ?? 0) + n; });
    sum.completion += usage.completion_tokens;
    sum.prompt += usage.prompt_tokens;
  };
  for (const speculative of ['auto', { num_tokens: 3 }, 0, { num_tokens: 2 }]) {
    const res = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 40, temperature: 0, speculative });
    add(res.nextn.spec, res.usage);
  }
  const stream = await client.chat.completions.create({
    model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 30, temperature: 0.7, seed: 1,
    stream: true, stream_options: { include_usage: true },
  });
  for await (const chunk of stream) if (chunk.usage) add(chunk.nextn.spec, chunk.usage);
  assert.ok(sum.drafts > 0);

  const after_ = await scrape();
  assert.equal(after_.types.get('nextn:spec_decode_num_drafts_total'), 'counter');
  const delta = (name) => (after_.series.get(name) ?? 0) - (before.series.get(name) ?? 0);
  assert.equal(delta('nextn:spec_decode_num_drafts_total'), sum.drafts);
  assert.equal(delta('nextn:spec_decode_num_draft_tokens_total'), sum.draft_tokens);
  assert.equal(delta('nextn:spec_decode_num_accepted_tokens_total'), sum.accepted_tokens);
  sum.per_pos.forEach((n, i) => {
    assert.equal(delta(`nextn:spec_decode_num_accepted_tokens_per_pos_total{position="${i}"}`), n, `position ${i}`);
  });
  assert.equal(delta('nextn:generation_tokens_total'), sum.completion);
  assert.equal(delta('nextn:prompt_tokens_total'), sum.prompt);
  assert.equal(delta('nextn:http_requests_total{endpoint="/v1/completions",status="200"}'), 4);
  assert.equal(delta('nextn:http_requests_total{endpoint="/v1/chat/completions",status="200"}'), 1);
  assert.equal(after_.types.get('nextn:e2e_request_latency_seconds'), 'histogram');
  assert.ok(after_.series.get('nextn:e2e_request_latency_seconds_count{endpoint="/v1/completions"}') >= 4);
  for (const gauge of ['nextn:num_requests_running', 'nextn:num_requests_waiting']) {
    assert.equal(after_.types.get(gauge), 'gauge');
    assert.equal(after_.series.get(gauge), 0);
  }
});

test('the parser is strict', () => {
  assert.throws(() => parsePrometheus('x 1\n'), /no TYPE/);
  assert.throws(() => parsePrometheus('# TYPE x counter\nx{a=b} 1\n'), /not a sample/);
  assert.throws(() => parsePrometheus('# TYPE x counter\nx one\n'), /not a sample/);
  assert.throws(() => parsePrometheus('# TYPE x counter\nx 1'), /newline/);
  assert.equal(parsePrometheus('# TYPE x counter\nx{a="q\\"z"} 2\n').series.get('x{a="q\\"z"}'), 2);
});

test('a client that aborts a stream has its request cancelled', async () => {
  const client = server.client();
  const cancelled = async () => (await scrape()).series.get('nextn:request_cancelled_total');
  const before = await cancelled();
  const controller = new AbortController();
  const stream = await client.completions.create(
    { model: 'tiny', prompt: 'Once', max_tokens: 3000, temperature: 0, ignore_eos: true, stream: true },
    { signal: controller.signal });
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      assert.ok(chunk.choices);
      if (++chunks === 3) {  // chunks already read may still be queued: stop reading them
        controller.abort();
        break;
      }
    }
  } catch (err) {  // the client may end the loop quietly or throw its abort error
    assert.ok(err.name === 'APIUserAbortError' || err.name === 'AbortError', String(err));
  }
  assert.equal(chunks, 3);
  const deadline = Date.now() + 5000;
  while ((await cancelled()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await cancelled(), before + 1);
  assert.equal((await scrape()).series.get('nextn:num_requests_running'), 0);
});

test('more requests than --max-concurrent get 429', async () => {
  const small = await startServer(makeTiny(), ['--max-concurrent', '1']);
  try {
    const client = small.client();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () =>
      client.completions.create({ model: 'tiny', prompt: 'Once', max_tokens: 500, ignore_eos: true })));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results.filter((r) => r.status === 'rejected' && r.reason.status === 429).length;
    assert.equal(ok + limited, 4);
    assert.ok(ok >= 1 && limited >= 1, `ok ${ok}, 429 ${limited}`);
  } finally {
    assert.equal(await small.stop(), 0);
  }
});
