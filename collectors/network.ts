// network: per-interface traffic from /proc/net/dev, per second, as Diamond's NetworkCollector.
import { defineCollector, z } from '../src/plugin-api.js';
import { networkFallback, SOURCES, useFallback } from './fallback/systeminformation.js';

const RX = ['byte', 'packets', 'errors', 'drop', 'fifo', 'frame', 'compressed', 'multicast'] as const;
const TX = ['byte', 'packets', 'errors', 'drop', 'fifo', 'colls', 'carrier', 'compressed'] as const;

export interface InterfaceCounters {
  readonly rx: readonly number[];
  readonly tx: readonly number[];
}

/** Parses /proc/net/dev: `  eth0: 1234 5 0 0 0 0 0 0  5678 6 0 0 0 0 0 0`. */
export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const out = new Map<string, InterfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (v.length < 16 || v.some((n) => !Number.isFinite(n))) continue;
    out.set(name, { rx: v.slice(0, 8), tx: v.slice(8, 16) });
  }
  return out;
}

type Ctx = Parameters<NonNullable<typeof network.collect>>[0];

/** One direction of one interface: bytes as bit and/or byte rates, the rest as rates. */
function publish(ctx: Ctx, name: string, dir: 'rx' | 'tx', leaves: readonly string[], values: readonly number[]): void {
  const p2 = { precision: 2 };
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    if (leaf !== 'byte') {
      ctx.rate([name, `${dir}_${leaf}`], values[i]!, p2);
      continue;
    }
    const r = ctx.derive(`${name}.${dir}_byte`, values[i]!);
    if (r === undefined) continue;
    if (ctx.config.byte_unit.includes('bit')) ctx.emit([name, `${dir}_bit`], r * 8, { kind: 'rate', ...p2 });
    if (ctx.config.byte_unit.includes('byte')) ctx.emit([name, `${dir}_byte`], r, { kind: 'rate', ...p2 });
  }
}

const network = defineCollector({
  name: 'network',
  description: 'Bytes, bits, packets, errors and drops per second for each network interface, from /proc/net/dev.',
  schema: z.object({
    interfaces: z
      .array(z.string())
      .default(['eth', 'bond', 'em', 'p1p', 'eno', 'enp', 'ens', 'enx'])
      .describe('Interface name prefixes to report (Diamond\'s default list).'),
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
    byte_unit: z
      .array(z.enum(['bit', 'byte']))
      .default(['bit', 'byte'])
      .describe('Publish rx_bit/tx_bit, rx_byte/tx_byte, or both.'),
  }),
  async collect(ctx) {
    if (await useFallback(ctx, 'net/dev')) return networkFallback(ctx);
    const devs = parseNetDev(await ctx.proc.read('net/dev'));
    for (const [name, c] of devs) {
      if (!ctx.config.interfaces.some((prefix) => name.startsWith(prefix))) continue;
      publish(ctx, name, 'rx', RX, c.rx);
      publish(ctx, name, 'tx', TX, c.tx);
    }
  },
});

export default network;
