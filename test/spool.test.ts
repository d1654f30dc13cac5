// The disk spool: order, restarts, torn records, caps, and a kill -9 in the middle of writing.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { Spool } from '../src/delivery/spool.js';
import { tmpdir } from './helpers/tmp.js';

const names = new NameTable('cpu');
const render = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });
const sample = (i: number): Sample => ({ name: names.get(['total', `m${i % 7}`]), value: i + 0.5, kind: 'rate', timestamp: 1_700_000_000_000 + i * 1000, precision: i % 2 ? 2 : undefined });
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => sample(a + i));
const wire = (s: Sample) => `${render.render(s.name)} ${s.value} ${s.timestamp} ${s.kind} ${s.precision}`;
const opts = { maxBytes: 1024 ** 3, maxAge: 7 * 86_400_000 };

function drainAll(spool: Spool): Sample[] {
  const out: Sample[] = [];
  for (let seg = spool.oldest(); seg; seg = spool.oldest()) {
    out.push(...seg.samples);
    spool.done(seg);
  }
  return out;
}

describe('spool', () => {
  it('gives back what was appended, in order and unchanged, also after a restart', () => {
    const dir = tmpdir();
    const a = new Spool(dir, { ...opts, segmentBytes: 2000 });
    a.append(range(0, 10));
    a.append(range(10, 100));
    a.append(range(100, 150));
    expect(a.pending).toBe(150);
    a.close();
    expect(readdirSync(dir).length).toBeGreaterThan(1); // several segments
    const b = new Spool(dir, opts);
    expect(b.pending).toBe(150);
    expect(drainAll(b).map(wire)).toEqual(range(0, 150).map(wire));
    expect(b.pending).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips a torn last record and keeps every whole one before it', () => {
    const dir = tmpdir();
    const a = new Spool(dir, opts);
    a.append(range(0, 10));
    a.append(range(10, 20));
    a.append(range(20, 30));
    a.close();
    const file = path.join(dir, readdirSync(dir)[0]!);
    truncateSync(file, statSync(file).size - 7); // the last write was cut short
    const b = new Spool(dir, opts);
    expect(b.pending).toBe(20);
    const seg = b.oldest()!;
    expect(seg.samples.map(wire)).toEqual(range(0, 20).map(wire));
    expect(seg.tornBytes).toBeGreaterThan(0);
  });

  it('detects a record whose bytes were damaged (checksum) and stops before it', () => {
    const dir = tmpdir();
    const a = new Spool(dir, opts);
    a.append(range(0, 5));
    a.append(range(5, 10));
    a.close();
    const file = path.join(dir, readdirSync(dir)[0]!);
    const buf = readFileSync(file);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0xff;
    writeFileSync(file, buf);
    const seg = new Spool(dir, opts).oldest()!;
    expect(seg.samples.map(wire)).toEqual(range(0, 5).map(wire));
  });

  it('drops the oldest segments past the size cap and reports exactly how many samples went', () => {
    const dir = tmpdir();
    const s = new Spool(dir, { maxBytes: 5000, maxAge: opts.maxAge, segmentBytes: 1000 });
    let appended = 0;
    for (let i = 0; i < 40; i++) {
      s.append(range(i * 10, i * 10 + 10));
      appended += 10;
    }
    const before = s.pending;
    expect(before).toBe(appended);
    const drops = s.enforceCaps();
    const dropped = drops.reduce((n, d) => n + d.samples, 0);
    expect(drops.every((d) => d.reason === 'size')).toBe(true);
    expect(s.bytes).toBeLessThanOrEqual(5000 + 1100);
    expect(s.pending).toBe(before - dropped);
    // What is left is the newest samples, still in order.
    const left = drainAll(s);
    expect(left.map(wire)).toEqual(range(appended - left.length, appended).map(wire));
    expect(left.length).toBe(before - dropped);
  });

  it('drops segments older than the age cap', () => {
    const dir = tmpdir();
    const s = new Spool(dir, { maxBytes: opts.maxBytes, maxAge: 3_600_000, segmentBytes: 500 });
    s.append(range(0, 10));
    s.append(range(10, 20));
    s.close();
    const [oldest] = readdirSync(dir).sort();
    const old = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(path.join(dir, oldest!), old, old);
    const t = new Spool(dir, { maxBytes: opts.maxBytes, maxAge: 3_600_000 });
    const drops = t.enforceCaps();
    expect(drops).toEqual([{ samples: 10, segments: 1, reason: 'age' }]);
    expect(drainAll(t).map(wire)).toEqual(range(10, 20).map(wire));
  });

  it('survives kill -9 in the middle of writing: every whole record is read back, nothing throws', async () => {
    const dir = tmpdir();
    // A child that appends as fast as it can, built from the real module.
    const entry = path.join(dir, 'writer.ts');
    writeFileSync(
      entry,
      `import { Spool } from ${JSON.stringify(path.resolve('src/delivery/spool.ts'))};
       import { NameTable } from ${JSON.stringify(path.resolve('src/model/naming.ts'))};
       const t = new NameTable('w'); const s = new Spool(process.argv[2], { maxBytes: 1e12, maxAge: 1e12, segmentBytes: 65536 });
       let i = 0; process.send?.('ready');
       for (;;) { const b = []; for (let k = 0; k < 50; k++, i++) b.push({ name: t.get('seq'), value: i, kind: 'gauge', timestamp: i, precision: undefined }); s.append(b); }`,
    );
    const out = path.join(dir, 'writer.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
    const spoolDir = path.join(dir, 'spool');
    const child = spawn(process.execPath, [out, spoolDir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((r) => child.once('message', r));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const s = new Spool(spoolDir, opts);
    const values = drainAll(s).map((x) => x.value);
    expect(values.length).toBeGreaterThan(1000);
    // Whole records only, in order, none missing before the tear: 0, 1, 2, ...
    expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i));
    expect(values.length % 50).toBe(0);
  });
});

