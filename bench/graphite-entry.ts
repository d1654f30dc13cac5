// Bundled by bench/graphite.mjs: drives the real graphite handler and spool.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import graphite from '../handlers/graphite/graphite.js';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { Spool } from '../src/delivery/spool.js';

const N = Number(process.env.BENCH_SAMPLES ?? 1_000_000);
const BATCH = 5000;

function samples(): Sample[] {
  const names = Array.from({ length: 1000 }, (_, i) => new NameTable(`c${i % 10}`).get(['group', `metric_${i}`]));
  const ts = Date.now();
  return Array.from({ length: N }, (_, i) => ({ name: names[i % 1000]!, value: (i * 7.3) % 1000, kind: 'gauge' as const, timestamp: ts, precision: i % 3 === 0 ? 2 : undefined }));
}

async function sink(): Promise<{ port: number; bytes: () => Promise<number>; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', `
    const net = require('net'); let bytes = 0;
    const s = net.createServer((c) => c.on('data', (d) => (bytes += d.length)));
    s.listen(0, '127.0.0.1', () => process.send(s.address().port));
    process.on('message', () => process.send(bytes));
  `], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
  return {
    port,
    bytes: () => new Promise((r) => { child.once('message', (m) => r(m as number)); child.send('?'); }),
    stop: () => child.kill(),
  };
}

async function throughHandler(protocol: 'plaintext' | 'pickle', all: Sample[]): Promise<{ perSecond: number; mb: number }> {
  const s = await sink();
  const renderer = new PathRenderer({ prefix: 'servers', host: 'bench', suffix: '' });
  const config = { destinations: [`127.0.0.1:${s.port}`], connect_timeout: 5000, protocol, resend_window: 10_000 };
  const signal = new AbortController().signal;
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const ctx = { config, state: undefined as unknown, path: (n: Sample['name']) => renderer.render(n), signal, log };
  ctx.state = await graphite.init!(ctx as never);
  const t0 = performance.now();
  for (let i = 0; i < all.length; i += BATCH) await graphite.send(all.slice(i, i + BATCH), ctx as never);
  const elapsed = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const bytes = await s.bytes();
  await graphite.close?.(ctx as never);
  s.stop();
  return { perSecond: all.length / elapsed, mb: bytes / 1e6 };
}

function spool(all: Sample[]): { write: number; replay: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-spool-'));
  try {
    const sp = new Spool(dir, { maxBytes: 1e12, maxAge: 1e12 });
    let t0 = performance.now();
    for (let i = 0; i < all.length; i += 1000) sp.append(all.slice(i, i + 1000));
    sp.sync();
    const write = all.length / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    let n = 0;
    for (let seg = sp.oldest(); seg; seg = sp.oldest()) {
      n += seg.samples.length;
      sp.done(seg);
    }
    const replay = n / ((performance.now() - t0) / 1000);
    if (n !== all.length) throw new Error(`spool replayed ${n} of ${all.length}`);
    return { write, replay };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const all = samples();
const plain = await throughHandler('plaintext', all);
const pickle = await throughHandler('pickle', all);
const sp = spool(all);
process.stdout.write(JSON.stringify({ n: N, plain, pickle, spool: sp }) + '\n');
