import { appendFileSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpoolReader } from '../src/delivery/spool-reader.js';
import { Spool } from '../src/delivery/spool.js';
import { tmpdir } from './helpers/tmp.js';
import { range, values } from './helpers/samples.js';

const caps = { maxBytes: 1024 ** 3, maxAge: 86_400_000, segmentBytes: 1 };

describe('spool reader', () => {
  it('reads segments oldest first in batches, and removes a segment only once all of it was sent', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, caps); // segmentBytes 1: every append starts a new segment
    spool.append(range(0, 5));
    spool.append(range(5, 7));
    const r = new SpoolReader(spool, {});
    expect(values(r.next(3))).toEqual([0, 1, 2]);
    r.sent(3);
    expect(values(r.next(3))).toEqual([3, 4]);
    expect(readdirSync(dir)).toHaveLength(2); // the first segment is not done until its last batch is sent
    r.sent(2);
    expect(values(r.next(3))).toEqual([5, 6]);
    expect(readdirSync(dir)).toHaveLength(1);
    r.sent(2);
    expect(r.next(3)).toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(0);
    expect(spool.pending).toBe(0);
  });

  it('gives the same batch again until it is sent (a failed send is read again)', () => {
    const spool = new Spool(tmpdir(), caps);
    spool.append(range(0, 4));
    const r = new SpoolReader(spool, {});
    expect(values(r.next(2))).toEqual([0, 1]);
    expect(values(r.next(2))).toEqual([0, 1]);
  });

  it('after a rewind, reads the segment again from where it was settled: nothing on disk lost, nothing settled sent twice', () => {
    const spool = new Spool(tmpdir(), caps);
    spool.append(range(0, 4));
    const r = new SpoolReader(spool, {});
    r.next(2);
    r.sent(2);
    r.rewind();
    expect(values(r.next(10))).toEqual([2, 3]);
    // A new reader of the same spool (a replaced handler) resumes there too.
    expect(values(new SpoolReader(spool, {}).next(10))).toEqual([2, 3]);
  });

  it('counts as lost only the unsettled samples of a segment removed while it was being sent', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, caps);
    spool.append(range(0, 10));
    const lost: number[] = [];
    const stats = { dropped: 0 };
    const r = new SpoolReader(spool, { damaged: (_f, n) => void lost.push(n) }, stats);
    r.next(4);
    r.sent(4); // 0..3 delivered
    r.rewind(); // the handler is replaced...
    for (const f of readdirSync(dir)) rmSync(path.join(dir, f)); // ...and the file removed under it
    expect(new SpoolReader(spool, { damaged: (_f, n) => void lost.push(n) }, stats).next(4)).toBeUndefined();
    expect(lost).toEqual([6]);
    expect(stats.dropped).toBe(6);
  });

  it('reports a torn last record once, with its size, and sends the whole records before it', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, { ...caps, segmentBytes: 1 << 20 });
    spool.append(range(0, 3));
    spool.close();
    const [file] = readdirSync(dir);
    appendFileSync(path.join(dir, file!), Buffer.from([9, 0, 0, 0, 1])); // 5 bytes of a header that never got its payload
    const torn: [string, number][] = [];
    const r = new SpoolReader(new Spool(dir, caps), { torn: (f, b) => void torn.push([path.basename(f), b]) });
    expect(values(r.next(10))).toEqual([0, 1, 2]);
    r.next(10);
    expect(torn).toEqual([[file, 5]]);
  });

  it('skips a segment removed under it, counts its samples as dropped, and goes on with the next', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, caps);
    spool.append(range(0, 3));
    spool.append(range(3, 7));
    spool.append(range(7, 9));
    const files = readdirSync(dir).sort();
    unlinkSync(path.join(dir, files[1]!));
    const stats = { dropped: 0 };
    const damaged: [string, number][] = [];
    const r = new SpoolReader(spool, { damaged: (f, n) => void damaged.push([path.basename(f), n]) }, stats);
    const got: number[] = [];
    for (let b = r.next(10); b; b = r.next(10)) {
      got.push(...values(b));
      r.sent(b.length);
    }
    expect(got).toEqual([0, 1, 2, 7, 8]);
    expect(stats.dropped).toBe(4);
    expect(damaged).toEqual([[files[1], 4]]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('sends the whole records of a segment garbled under it and counts the rest as dropped', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, { ...caps, segmentBytes: 1 << 20 });
    spool.append(range(0, 3));
    spool.append(range(3, 8));
    spool.close();
    const file = path.join(dir, readdirSync(dir)[0]!);
    const stats = { dropped: 0 };
    const damaged: number[] = [];
    const r = new SpoolReader(new Spool(dir, caps), { damaged: (_f, n) => void damaged.push(n) }, stats);
    // Overwritten after the agent counted it: the second record (5 samples) is garbage now.
    const buf = readFileSync(file);
    const second = 12 + buf.readUInt32LE(0);
    buf.fill(0x41, second);
    writeFileSync(file, buf);
    const got: number[] = [];
    for (let b = r.next(10); b; b = r.next(10)) {
      got.push(...values(b));
      r.sent(b.length);
    }
    expect(got).toEqual([0, 1, 2]);
    expect(stats.dropped).toBe(5);
    expect(damaged).toEqual([5]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('goes on when the segment being sent is deleted: its samples were read already, and it is done', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, caps);
    spool.append(range(0, 4));
    spool.append(range(4, 6));
    const stats = { dropped: 0 };
    const r = new SpoolReader(spool, {}, stats);
    expect(values(r.next(2))).toEqual([0, 1]);
    unlinkSync(path.join(dir, readdirSync(dir).sort()[0]!));
    const got: number[] = [0, 1];
    r.sent(2);
    for (let b = r.next(2); b; b = r.next(2)) {
      got.push(...values(b));
      r.sent(b.length);
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stats.dropped).toBe(0);
  });

  it('goes on when the spool directory is removed under it: what was only on disk is counted as dropped', () => {
    const dir = tmpdir();
    const spool = new Spool(dir, caps);
    spool.append(range(0, 4));
    spool.append(range(4, 6));
    const stats = { dropped: 0 };
    const r = new SpoolReader(spool, {}, stats);
    const got = values(r.next(2));
    rmSync(dir, { recursive: true });
    r.sent(2);
    for (let b = r.next(2); b; b = r.next(2)) {
      got.push(...values(b));
      r.sent(b.length);
    }
    expect(got).toEqual([0, 1, 2, 3]);
    expect(stats.dropped).toBe(2);
    expect(spool.pending).toBe(0);
  });
});
