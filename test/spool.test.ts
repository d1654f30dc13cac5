// The disk spool: order, restarts, torn records, caps, a kill -9 in the middle of writing, a full
// disk (a real tmpfs of a few KiB) and files changed under it.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { Spool, SpoolReadError, SpoolWriteError } from '../src/delivery/spool.js';
import { tmpdir } from './helpers/tmp.js';
import { tmpfs } from './helpers/tmpfs.js';

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

  it('a segment that cannot be read for now (out of file descriptors) stays on disk, whole, and is read later', () => {
    const dir = tmpdir();
    const s = new Spool(dir, opts);
    s.append(range(0, 20));
    s.close();
    const reader = new Spool(dir, opts);
    // This process's real open-file limit, lowered and exhausted for a moment (prlimit, util-linux).
    const limits = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--raw', '--noheadings', '--output', 'SOFT,HARD'], { encoding: 'utf8' }).trim().split(/\s+/);
    const fds: number[] = [];
    let error: unknown;
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${fds.length + 64}:${limits[1]}`]);
    try {
      for (;;) fds.push(openSync('/dev/null', 'r'));
    } catch {
      try {
        reader.oldest();
      } catch (err) {
        error = err;
      }
    } finally {
      for (const fd of fds) closeSync(fd);
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limits[0]}:${limits[1]}`]);
    }
    expect(error).toBeInstanceOf(SpoolReadError);
    expect((error as SpoolReadError).code).toBe('EMFILE');
    expect(readdirSync(dir)).toHaveLength(1);
    expect(reader.pending).toBe(20);
    expect(reader.oldest()!.samples.map(wire)).toEqual(range(0, 20).map(wire));
  });

  it('a reader that starts over resumes after what was settled, so nothing settled is sent or counted twice', () => {
    const dir = tmpdir();
    const s = new Spool(dir, opts);
    s.append(range(0, 10));
    const seg = s.oldest()!;
    s.progress(seg, 4);
    const again = s.oldest()!;
    expect(again.resumeAt).toBe(4);
    expect(again.samples.slice(again.resumeAt).map(wire)).toEqual(range(4, 10).map(wire));
    s.done(again);
    s.append(range(10, 12));
    expect(s.oldest()!.resumeAt).toBe(0);
  });

  it('a write a full disk cuts short leaves no torn record: the segment is cut back to its last whole one', () => {
    const dir = tmpfs('16k');
    const s = new Spool(dir, { ...opts, segmentBytes: 1 << 20 }); // one segment, filled to the last byte
    let appended = 0;
    let error: unknown;
    for (let i = 0; i < 1000 && error === undefined; i++) {
      try {
        s.append(range(i * 10, i * 10 + 10));
        appended += 10;
      } catch (err) {
        error = err;
      }
    }
    expect(error).toBeInstanceOf(SpoolWriteError);
    expect((error as SpoolWriteError).code).toBe('ENOSPC');
    expect((error as SpoolWriteError).dir).toBe(dir);
    expect(appended).toBeGreaterThan(0);
    expect(s.pending).toBe(appended);
    const [file] = readdirSync(dir);
    expect(statSync(path.join(dir, file!)).size).toBe(s.bytes);
    s.close();
    const seg = new Spool(dir, opts).oldest()!;
    expect(seg.tornBytes).toBe(0);
    expect(seg.samples.map(wire)).toEqual(range(0, appended).map(wire));
  });

  it('out of space, makes room by dropping the oldest segments but not the one being read', () => {
    const dir = tmpfs('16k');
    const s = new Spool(dir, { ...opts, segmentBytes: 1 }); // a segment per append
    let error: SpoolWriteError | undefined;
    let appended = 0;
    for (let i = 0; error === undefined; i++) {
      try {
        s.append(range(i * 10, i * 10 + 10));
        appended += 10;
      } catch (err) {
        error = err as SpoolWriteError;
      }
    }
    expect(error.full).toBe(true);
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    const reading = s.oldest()!; // segment 1 is being sent
    const room = s.makeRoom(error.bytes);
    expect(room.segments).toBeGreaterThanOrEqual(1);
    expect(room.samples).toBe(room.segments * 10);
    expect(s.pending).toBe(appended - room.samples);
    expect(existsSync(reading.file)).toBe(true);
    // The dropped ones are the oldest after the one being read.
    expect(readdirSync(dir).sort()).toEqual([files[0], ...files.slice(1 + room.segments)]);
    s.append(range(1000, 1010));
    s.done(reading);
    const rest: Sample[] = [];
    for (let seg = s.oldest(); seg; seg = s.oldest()) {
      rest.push(...seg.samples);
      s.done(seg);
    }
    expect(rest.map(wire)).toEqual([...range(10 + room.samples, appended), ...range(1000, 1010)].map(wire));
  });

  it('reports a segment removed or overwritten under it with the samples it held, and never throws', () => {
    const dir = tmpdir();
    const s = new Spool(dir, { ...opts, segmentBytes: 1 });
    s.append(range(0, 4));
    s.append(range(4, 10));
    s.append(range(10, 13));
    const [first, second] = readdirSync(dir).sort();
    unlinkSync(path.join(dir, first!));
    writeFileSync(path.join(dir, second!), Buffer.from('not a spool record, written by someone else'));
    const a = s.oldest()!;
    expect([a.samples.length, a.lost]).toEqual([0, 4]);
    expect(a.damage).toMatch(/ENOENT/);
    s.done(a);
    const b = s.oldest()!;
    expect([b.samples.length, b.lost]).toEqual([0, 6]);
    expect(b.damage).toBeDefined();
    s.done(b);
    const c = s.oldest()!;
    expect([c.samples.map(wire), c.lost, c.damage]).toEqual([range(10, 13).map(wire), 0, undefined]);
    s.done(c);
    expect(s.pending).toBe(0);
  });

  it('counts no samples for a file whose records fail their checksum, however many their headers claim', () => {
    const dir = tmpdir();
    const header = Buffer.alloc(12);
    header.writeUInt32LE(4, 0); // a 4-byte payload
    header.writeUInt32LE(1_000_000, 4); // "a million samples"
    header.writeUInt32LE(12345, 8); // not the payload's CRC-32
    writeFileSync(path.join(dir, '0000000000000001.spool'), Buffer.concat([header, Buffer.from('[[]]')]));
    const s = new Spool(dir, opts);
    expect(s.pending).toBe(0);
    const seg = s.oldest()!;
    expect([seg.samples.length, seg.lost, seg.tornBytes]).toEqual([0, 0, 16]);
  });

  it('makes its directory again when it was removed under it; what was in it is reported lost', () => {
    const dir = path.join(tmpdir(), 'spool');
    const s = new Spool(dir, { ...opts, segmentBytes: 1 });
    s.append(range(0, 5));
    rmSync(dir, { recursive: true });
    s.append(range(5, 8));
    expect(existsSync(dir)).toBe(true);
    const a = s.oldest()!;
    expect(a.lost).toBe(5);
    s.done(a);
    expect(s.oldest()!.samples.map(wire)).toEqual(range(5, 8).map(wire));
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

