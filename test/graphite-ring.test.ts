// sonde's placement of metrics on carbon destinations must equal carbon-relay's: the expected
// answers come from carbon.hashing.ConsistentHashRing in Debian's graphite-carbon, run here.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConsistentHashRing, type HashType } from '../handlers/graphite/ring.js';

const PY = '/usr/bin/python3';

function metricNames(n: number): string[] {
  const out: string[] = [];
  const collectors = ['cpu.total.user', 'memory.MemFree', 'diskspace.root.byte_avail', 'iostat.sda.util_percentage', 'loadavg.01', 'mysql.m1.Threads_connected'];
  for (let i = 0; i < n; i++) out.push(`servers.host${i % 37}.${collectors[i % collectors.length]}${i % 5 === 0 ? `.x${i}` : ''}`);
  out.push('a', 'ü.unicode.name', 'servers.web-01.network.eth0.rx_byte');
  return out;
}

function pythonPlacement(nodes: [string, string | null][], type: HashType, keys: string[]): number[] {
  const script = `
import json, sys
from carbon.hashing import ConsistentHashRing
nodes, hash_type, keys = json.load(sys.stdin)
nodes = [tuple(n) for n in nodes]
ring = ConsistentHashRing(nodes, hash_type=hash_type)
print(json.dumps([nodes.index(ring.get_node(k)) for k in keys]))
`;
  const out = execFileSync(PY, ['-c', script], { input: JSON.stringify([nodes, type, keys]), encoding: 'utf8' });
  return JSON.parse(out) as number[];
}

const layouts: Record<string, [string, string | null][]> = {
  'with instance names': [['10.0.0.1', 'a'], ['10.0.0.2', 'b'], ['carbon3.example.com', 'c']],
  'without instance names': [['10.0.0.1', null], ['10.0.0.2', null], ['10.0.0.3', null], ['10.0.0.4', null]],
  'mixed, one destination': [['127.0.0.1', null]],
  'two instances on one host': [['127.0.0.1', 'a'], ['127.0.0.1', 'b']],
};

describe('consistent hashing equals carbon-relay', () => {
  for (const type of ['carbon_ch', 'fnv1a_ch'] as const) {
    for (const [name, nodes] of Object.entries(layouts)) {
      it(`${type}, ${name}`, () => {
        const keys = metricNames(300);
        const expected = pythonPlacement(nodes, type, keys);
        const ring = new ConsistentHashRing(nodes.map(([server, instance], i) => ({ server, instance: instance ?? undefined, i })), type);
        expect(keys.map((k) => ring.get(k).i)).toEqual(expected);
        if (nodes.length > 1) expect(new Set(expected).size).toBeGreaterThan(1); // the layout spreads at all
      });
    }
  }
});
