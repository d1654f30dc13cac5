// network: per-interface traffic from /proc/net/dev, per second, as Diamond's NetworkCollector.
import { defineCollector, procfs, SOURCES, z, type CollectorContext } from '../src/plugin-api.js';

/** Diamond's leaf names for /proc/net/dev's receive and transmit columns, in file order. */
const RX = ['byte', 'packets', 'errors', 'drop', 'fifo', 'frame', 'compressed', 'multicast'] as const;
const TX = ['byte', 'packets', 'errors', 'drop', 'fifo', 'colls', 'carrier', 'compressed'] as const;

interface NetConfig {
  readonly interfaces: readonly string[];
  readonly byte_unit: readonly string[];
}
type Ctx = CollectorContext<NetConfig, unknown>;

/** Bytes per second as bits and/or bytes, as byte_unit asks. */
function publishBytes(ctx: Ctx, name: string, dir: 'rx' | 'tx', counter: number): void {
  const r = ctx.derive(`${name}.${dir}_byte`, counter);
  if (r === undefined) return;
  const opts = { kind: 'rate', precision: 2 } as const;
  if (ctx.config.byte_unit.includes('bit')) ctx.emit([name, `${dir}_bit`], r * 8, opts);
  if (ctx.config.byte_unit.includes('byte')) ctx.emit([name, `${dir}_byte`], r, opts);
}

/** One direction of one interface: bytes as bit and/or byte rates, the rest as rates. */
function publish(ctx: Ctx, name: string, dir: 'rx' | 'tx', leaves: readonly string[], values: readonly number[]): void {
  const p2 = { precision: 2 };
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    if (leaf === 'byte') publishBytes(ctx, name, dir, values[i]!);
    else ctx.rate([name, `${dir}_${leaf}`], values[i]!, p2);
  }
}

/** Without /proc: systeminformation's counters (bytes, errors, drops only) under the same names. */
async function collectFallback(ctx: Ctx): Promise<void> {
  const stats = await (await ctx.fallback.systeminformation()).networkStats('*');
  const p2 = { precision: 2 };
  for (const s of stats) {
    if (!ctx.config.interfaces.some((p) => s.iface.startsWith(p))) continue;
    for (const dir of ['rx', 'tx'] as const) {
      publishBytes(ctx, s.iface, dir, s[`${dir}_bytes`]);
      ctx.rate([s.iface, `${dir}_errors`], s[`${dir}_errors`], p2);
      ctx.rate([s.iface, `${dir}_drop`], s[`${dir}_dropped`], p2);
    }
  }
}

export default defineCollector({
  name: 'network',
  description: 'Bytes, bits, packets, errors and drops per second for each network interface, from /proc/net/dev.',
  schema: () => z.object({
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
    if (await ctx.fallback.use(ctx.config.source, 'net/dev')) return collectFallback(ctx);
    for (const [name, c] of procfs.parseNetDev(await ctx.proc.read('net/dev'))) {
      if (!ctx.config.interfaces.some((prefix) => name.startsWith(prefix))) continue;
      publish(ctx, name, 'rx', RX, c.rx);
      publish(ctx, name, 'tx', TX, c.tx);
    }
  },
});
