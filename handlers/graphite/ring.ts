// carbon-relay's consistent hashing, so sonde puts every metric on the destination carbon-relay
// would: the ring of carbon.hashing.ConsistentHashRing (replica count 100), `carbon_ch` (MD5) and
// `fnv1a_ch` (FNV-1a folded to 16 bits). Checked against the Python module in the tests.
import { createHash } from 'node:crypto';

export type HashType = 'carbon_ch' | 'fnv1a_ch';

export interface RingNode {
  readonly server: string;
  readonly instance: string | undefined;
}

/** Python's repr() of a plain string, as carbon builds its replica keys from a tuple's repr. */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

function fnv1a32(data: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** carbon.hashing.carbonHash */
export function carbonHash(key: string, type: HashType): number {
  if (type === 'fnv1a_ch') {
    const big = fnv1a32(Buffer.from(key, 'utf8'));
    return (big >>> 16) ^ (big & 0xffff);
  }
  return parseInt(createHash('md5').update(key, 'utf8').digest('hex').slice(0, 4), 16);
}

export class ConsistentHashRing<N extends RingNode> {
  private readonly positions: number[] = [];
  private readonly owners: N[] = [];

  constructor(
    nodes: readonly N[],
    private readonly type: HashType = 'carbon_ch',
    replicas = 100,
  ) {
    const taken = new Set<number>();
    const entries: [number, N][] = [];
    for (const node of nodes) {
      const instance = node.instance === undefined ? 'None' : node.instance;
      const tuple = `(${pyRepr(node.server)}, ${node.instance === undefined ? 'None' : pyRepr(node.instance)})`;
      for (let i = 0; i < replicas; i++) {
        const key = type === 'fnv1a_ch' ? `${i}-${instance}` : `${tuple}:${i}`;
        let pos = carbonHash(key, type);
        while (taken.has(pos)) pos++;
        taken.add(pos);
        entries.push([pos, node]);
      }
    }
    entries.sort((a, b) => a[0] - b[0]);
    for (const [p, n] of entries) {
      this.positions.push(p);
      this.owners.push(n);
    }
  }

  /** The destination for a metric path: the first ring entry at or after its position, wrapping. */
  get(path: string): N {
    if (this.positions.length === 0) throw new Error('the hash ring has no destinations');
    const pos = carbonHash(path, this.type);
    let lo = 0;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo % this.positions.length]!;
  }
}
