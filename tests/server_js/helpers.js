// Shared by the server tests: a tiny checkpoint, a `nextn serve` subprocess on a free
// loopback port, an OpenAI client for it, and a strict Prometheus text-format parser.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binary = process.env.NEXTN_BINARY ?? path.join(root, 'build/nextn');

// A tiny checkpoint with a byte-level tokenizer and a chat template; removed at exit.
export function makeTiny() {
  const dir = mkdtempSync(path.join(tmpdir(), 'nextn-serve-'));
  const out = path.join(dir, 'tiny');
  const made = spawnSync(binary, ['make-tiny', '--vocab', '300', '--predictable', '--tokenizer', '--out', out],
                         { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`${binary} make-tiny failed: ${made.stderr}${made.error ?? ''}`);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return out;
}

// Starts `nextn serve` on 127.0.0.1 and an OS-chosen port; resolves once it listens.
export async function startServer(model, extra = []) {
  const proc = spawn(binary, ['serve', '--model', model, '--host', '127.0.0.1', '--port', '0', ...extra],
                     { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nextn serve did not start:\n${log}`)), 30000);
    proc.stderr.on('data', (data) => {
      log += data;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`nextn serve exited (${code}):\n${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    log: () => log,
    client: (options = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60000, ...options }),
    // SIGTERM, then the exit code (the server stops cleanly on it).
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.on('exit', (code) => resolve(code));
      proc.kill('SIGTERM');
    }),
  };
}

// A strict reader of the Prometheus text format 0.0.4: each sample's family has one TYPE
// line before it, names and label sets are well formed, values are numbers. Returns
// Map(series → value), the series spelt as in the text (`name{label="v",...}`).
export function parsePrometheus(text) {
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const label = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
  const sample = new RegExp(`^(${name})(\\{${label}(?:,${label})*\\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|\\+Inf|-Inf|NaN)$`);
  const types = new Map();
  const series = new Map();
  if (!text.endsWith('\n')) throw new Error('exposition must end in a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = new RegExp(`^# HELP (${name}) .*$`).exec(line))) continue;
    if ((m = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      if (types.has(m[1])) throw new Error(`TYPE twice for ${m[1]}`);
      types.set(m[1], m[2]);
      continue;
    }
    if (!(m = sample.exec(line))) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    let family = m[1];
    if (!types.has(family)) family = family.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`no TYPE line before ${line}`);
    const key = m[1] + (m[2] ?? '');
    if (series.has(key)) throw new Error(`series twice: ${key}`);
    series.set(key, Number(m[3]));
  }
  return { types, series };
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
