import { appendFileSync, readdirSync } from 'node:fs';
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

  it('after a rewind, reads the segment from its start: nothing on disk was lost', () => {
    const spool = new Spool(tmpdir(), caps);
    spool.append(range(0, 4));
    const r = new SpoolReader(spool, {});
    r.next(2);
    r.sent(2);
    r.rewind();
    expect(values(r.next(10))).toEqual([0, 1, 2, 3]);
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
});
