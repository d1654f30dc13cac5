// The pickle encoder, decoded by carbon's own safe unpickler (Debian's graphite-carbon).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodePickleMessages, type PickleItem } from '../handlers/graphite/pickle.js';

const PY = '/usr/bin/python3';

/** Each message decoded by carbon.util's unpickler: [[path, [ts, value]], ...] per message. */
function carbonDecode(messages: Buffer[]): [string, [number, number]][][] {
  const script = `
import sys, json, struct
from carbon.util import get_unpickler
unpickler = get_unpickler(insecure=False)
data = sys.stdin.buffer.read()
out, off = [], 0
while off < len(data):
    (n,) = struct.unpack('!L', data[off:off + 4])
    out.append(unpickler.loads(data[off + 4:off + 4 + n]))
    off += 4 + n
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PY, ['-c', script], { input: Buffer.concat(messages), encoding: 'utf8' })) as [string, [number, number]][][];
}

const item = (path: string, timestamp: number, value: number): PickleItem => ({ path: Buffer.from(path, 'utf8'), timestamp, value });

describe('pickle messages', () => {
  it('decode in carbon to the same paths, timestamps and values', () => {
    const items = [
      item('servers.web01.cpu.total.user', 1_795_382_080, 12.5),
      item('servers.web01.memory.MemFree', 1_795_382_080, 16384000000),
      item('servers.h.loadavg.01', 0, -0.25),
      item('servers.ü.unicode', 2_147_483_647, 1e-5),
      item('servers.h.after_2038', 4_102_444_800, 3),
    ];
    const { messages, tooLarge } = encodePickleMessages(items);
    expect(tooLarge).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(carbonDecode(messages)).toEqual([items.map((i) => [i.path.toString('utf8'), [i.timestamp, i.value]])]);
  });

  it('splits into messages that stay under the size limit, in order, losing none', () => {
    const items = Array.from({ length: 5000 }, (_, i) => item(`servers.h.m${i}.some.longer.path.segment`, 1_700_000_000 + i, i / 3));
    const { messages } = encodePickleMessages(items, 64 * 1024);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(64 * 1024);
    const decoded = carbonDecode(messages).flat();
    expect(decoded).toHaveLength(5000);
    expect(decoded.map((d) => d[0])).toEqual(items.map((i) => i.path.toString('utf8')));
    expect(decoded.map((d) => d[1][1])).toEqual(items.map((i) => i.value));
  });

  it('uses only plain opcodes: no globals, no memo, nothing a safe unpickler could refuse', () => {
    const { messages } = encodePickleMessages([item('servers.c.\u0093.R.b', 4_102_444_800, 2), item('x', 1, -1)]);
    const script = `
import sys, pickletools
data = sys.stdin.buffer.read()[4:]
print(' '.join(sorted({op.name for op, arg, pos in pickletools.genops(data)})))
`;
    const ops = execFileSync(PY, ['-c', script], { input: messages[0]!, encoding: 'utf8' }).trim().split(' ');
    expect(ops).toEqual(['APPENDS', 'BINFLOAT', 'BININT', 'BINUNICODE', 'EMPTY_LIST', 'LONG1', 'MARK', 'PROTO', 'STOP', 'TUPLE2']);
  });
});
