// The OpenAI API surface of `nextn serve`, driven by the official client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { makeTiny, startServer } from './helpers.js';

let server;
let client;
let model;
const messages = [{ role: 'user', content: 'Tell me a story.' }];

before(async () => {
  model = makeTiny();
  server = await startServer(model, ['--max-tokens-limit', '256', '--max-body', '65536']);
  client = server.client();
});
after(async () => {
  assert.equal(await server.stop(), 0, server.log());
});

async function streamText(params) {
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta?.content ?? '';
    finish = choice.finish_reason ?? finish;
  }
  return { text, usage, finish };
}

test('models and health', async () => {
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].id, 'tiny');
  assert.equal(models.data[0].object, 'model');
  assert.equal(models.data[0].owned_by, 'nextn');
  const health = await fetch(`${server.url}/health`);
  assert.deepEqual(await health.json(), { status: 'ok' });
});

test('chat completion, streamed and not, agree for greedy decoding', async () => {
  const params = { model: 'tiny', messages, max_tokens: 40, temperature: 0 };
  const whole = await client.chat.completions.create(params);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices[0].message.role, 'assistant');
  assert.equal(whole.choices[0].finish_reason, 'length');
  assert.equal(whole.usage.completion_tokens, 40);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 40);
  const streamed = await streamText(params);
  assert.equal(streamed.text, whole.choices[0].message.content);
  assert.deepEqual(streamed.usage, whole.usage);
  assert.equal(streamed.finish, 'length');
});

test('text completion, streamed and not', async () => {
  const params = { model: 'tiny', prompt: 'Once upon a time', max_tokens: 30, temperature: 0 };
  const whole = await client.completions.create(params);
  assert.equal(whole.object, 'text_completion');
  assert.equal(whole.usage.completion_tokens, 30);
  const stream = await client.completions.create({ ...params, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, whole.choices[0].text);
});

test('speculation settings give identical greedy text', async () => {
  const base = { model: 'tiny', prompt: 'The quick brown fox', max_tokens: 48, temperature: 0 };
  const off = await client.completions.create({ ...base, speculative: 0 });
  for (const speculative of [{ num_tokens: 3 }, 'auto', { num_tokens: 0 }, 1]) {
    const res = await client.completions.create({ ...base, speculative });
    assert.equal(res.choices[0].text, off.choices[0].text, JSON.stringify(speculative));
  }
  const spec = await client.completions.create({ ...base, speculative: { num_tokens: 3 } });
  assert.ok(spec.nextn.spec.drafts > 0);
  assert.equal(off.nextn.spec.drafts, 0);
});

test('stop strings cut the text', async () => {
  const params = { model: 'tiny', prompt: 'Once upon a time', max_tokens: 60, temperature: 0 };
  const full = (await client.completions.create(params)).choices[0].text;
  const at = [...full].findIndex((c, i) => i >= 3 && /[a-z]/.test(c));
  assert.ok(at > 0, `no ascii letter in ${JSON.stringify(full)}`);
  const stop = [...full][at];
  const expected = full.slice(0, full.indexOf(stop));
  const cut = await client.completions.create({ ...params, stop: [stop, 'never-there'] });
  assert.equal(cut.choices[0].text, expected);
  assert.equal(cut.choices[0].finish_reason, 'stop');
  const streamed = await streamText({ model: 'tiny', messages, max_tokens: 60, temperature: 0, stop });
  assert.ok(!streamed.text.includes(stop));
});

test('logprobs and top_logprobs', async () => {
  const chat = await client.chat.completions.create({
    model: 'tiny', messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const content = chat.choices[0].logprobs.content;
  assert.equal(content.length, 10);
  for (const entry of content) {
    assert.equal(typeof entry.token, 'string');
    assert.ok(Array.isArray(entry.bytes));
    assert.equal(entry.top_logprobs.length, 3);
    assert.ok(entry.logprob <= 0);
    // Greedy: the chosen token is the most likely one.
    assert.ok(Math.abs(entry.logprob - entry.top_logprobs[0].logprob) < 1e-5);
    for (let i = 1; i < 3; ++i) assert.ok(entry.top_logprobs[i - 1].logprob >= entry.top_logprobs[i].logprob);
  }
  const bytes = Buffer.from(content.flatMap((e) => e.bytes)).toString('utf8');
  assert.equal(bytes, chat.choices[0].message.content);

  const text = await client.completions.create({ model: 'tiny', prompt: 'Hi', max_tokens: 8, temperature: 0, logprobs: 2 });
  const lp = text.choices[0].logprobs;
  assert.equal(lp.tokens.length, 8);
  assert.equal(lp.token_logprobs.length, 8);
  assert.equal(lp.top_logprobs.length, 8);
  assert.deepEqual(lp.text_offset.slice(0, 1), [0]);
});

// With a fixed draft count (or none): "auto" picks K from measured step times, and a different
// K draws the random numbers differently, so only the distribution is reproducible there.
test('a seed makes sampling reproducible', async () => {
  for (const speculative of [0, { num_tokens: 3 }]) {
    const params = { model: 'tiny', prompt: 'Once', max_tokens: 24, temperature: 1.0, top_p: 0.95, speculative };
    const a = await client.completions.create({ ...params, seed: 42 });
    const b = await client.completions.create({ ...params, seed: 42 });
    assert.equal(a.choices[0].text, b.choices[0].text, JSON.stringify(speculative));
    const others = await Promise.all([7, 8, 9].map((seed) => client.completions.create({ ...params, seed })));
    assert.ok(others.some((o) => o.choices[0].text !== a.choices[0].text));
    // The same seed beside other requests gives the same text as alone.
    const crowded = await Promise.all([42, 5, 6].map((seed) => client.completions.create({ ...params, seed })));
    assert.equal(crowded[0].choices[0].text, a.choices[0].text);
  }
});

test('errors surface as APIError with their status and param', async () => {
  const cases = [
    [{ model: 'tiny', messages, n: 2 }, 400, 'n'],
    [{ model: 'nope', messages }, 404, 'model'],
    [{ model: 'tiny', messages, max_tokens: 100000 }, 400, 'max_tokens'],
    [{ model: 'tiny', messages, temperature: 'warm' }, 400, 'temperature'],
    [{ model: 'tiny', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 400,
     'messages[0].content[0]'],
    [{ model: 'tiny', messages, top_logprobs: 2 }, 400, 'top_logprobs'],
    [{ model: 'tiny', messages, speculative: 'fast' }, 400, 'speculative'],
  ];
  for (const [params, status, param] of cases) {
    await assert.rejects(client.chat.completions.create(params), (err) => {
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, status, JSON.stringify(params));
      assert.equal(err.param, param);
      return true;
    });
  }
  const big = await fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', prompt: 'x'.repeat(70000) }),
  });
  assert.equal(big.status, 413);
  assert.ok((await big.json()).error.message.includes('--max-body'));
  const route = await fetch(`${server.url}/v1/nothing`);
  assert.equal(route.status, 404);
  // Still serving.
  const ok = await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2 });
  assert.equal(ok.usage.completion_tokens, 2);
});

test('an API key is required when set', async () => {
  const keyed = await startServer(model, ['--api-key', 'k-123', '--served-model-name', 'named']);
  try {
    await assert.rejects(keyed.client({ apiKey: 'wrong' }).models.list(), (err) => err.status === 401);
    const models = await keyed.client({ apiKey: 'k-123' }).models.list();
    assert.equal(models.data[0].id, 'named');
    assert.equal((await fetch(`${keyed.url}/health`)).status, 200);
  } finally {
    assert.equal(await keyed.stop(), 0);
  }
});
