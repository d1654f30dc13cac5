// A handler section as the delivery gets it: outbox settings from the section, else the plugin's
// defaults, else the core's; a graphite section in replicate or shard mode split into parts.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import graphite from '../handlers/graphite/graphite.js';
import stdout from '../handlers/stdout.js';
import { handlerSchema, handlerSections } from '../src/config/handler-section.js';
import type { AnyHandler } from '../src/plugins/registry.js';
import { defineHandler } from '../src/plugin-api.js';

const bare = defineHandler({ name: 'bare', description: 'no outbox defaults', schema: z.object({ url: z.string().default('http://x') }), send: async () => undefined }) as AnyHandler;

function sections(plugin: AnyHandler, options: Record<string, unknown>, key = 'h') {
  const warnings: string[] = [];
  const parsed = handlerSchema(plugin).parse(options) as Record<string, unknown>;
  const out = handlerSections(plugin, parsed, { key, fingerprint: 'fp', warn: (rel, m) => warnings.push(`${rel.join('.')}: ${m}`) });
  return { out, warnings };
}

describe('handler sections', () => {
  it('a plugin without outbox defaults gets the core\'s, and only its own options are its config', () => {
    const { out, warnings } = sections(bare, {});
    expect(warnings).toEqual([]);
    expect(out).toEqual([
      {
        key: 'h',
        group: undefined,
        plugin: bare,
        enabled: true,
        outbox: { batchSize: 1000, flushInterval: 1000, queueSize: 100_000, sendTimeout: 30_000, retryMin: 500, retryMax: 60_000, spool: true, spoolMaxBytes: 1024 ** 3, spoolMaxAge: 7 * 86_400_000, resendWindow: 0 },
        config: { url: 'http://x' },
        fingerprint: 'fp',
      },
    ]);
  });

  it('the plugin\'s defaults, then the section\'s own settings, win over the core\'s', () => {
    expect(sections(stdout, {}).out[0]!.outbox).toMatchObject({ batchSize: 1000, flushInterval: 200, spool: false });
    expect(sections(stdout, { batch_size: 50, flush_interval: '2s', spool: true, enabled: false }).out[0]).toMatchObject({ enabled: false, outbox: { batchSize: 50, flushInterval: 2000, spool: true } });
  });

  it('a queue smaller than one batch is raised to a batch, with a warning at queue_size', () => {
    const { out, warnings } = sections(bare, { queue_size: 10, batch_size: 20 }, 'web');
    expect(out[0]!.outbox).toMatchObject({ queueSize: 20, batchSize: 20 });
    expect(warnings).toEqual(['queue_size: handlers.web.queue_size (10) is smaller than batch_size (20); using 20. Lower batch_size too if you meant a small queue']);
  });

  it('retry_max below retry_min is raised to retry_min', () => {
    expect(sections(bare, { retry_min: '5s', retry_max: '1s' }).out[0]!.outbox).toMatchObject({ retryMin: 5000, retryMax: 5000 });
  });

  it('graphite\'s resend window comes from its config; over UDP there is none', () => {
    expect(sections(graphite, { resend_window: '3s' }).out[0]!.outbox.resendWindow).toBe(3000);
    expect(sections(graphite, { resend_window: '3s', transport: 'udp' }).out[0]!.outbox.resendWindow).toBe(0);
  });

  it('graphite replicate becomes one failover part per destination, named section@destination', () => {
    const { out } = sections(graphite, { mode: 'replicate', destinations: ['a:2003', 'b:2003'] }, 'carbon');
    expect(out.map((s) => [s.key, s.group?.name, s.group?.index, s.group?.choose, s.config.destinations, s.config.mode])).toEqual([
      ['carbon@a:2003', 'carbon', 0, undefined, ['a:2003'], 'failover'],
      ['carbon@b:2003', 'carbon', 1, undefined, ['b:2003'], 'failover'],
    ]);
  });

  it('graphite with one destination stays one section whatever the mode', () => {
    const { out } = sections(graphite, { mode: 'shard', destinations: ['a:2003'] }, 'carbon');
    expect(out.map((s) => [s.key, s.group])).toEqual([['carbon', undefined]]);
  });

  it('graphite shard parts share one way of choosing a part', () => {
    const { out } = sections(graphite, { mode: 'shard', destinations: ['a:2003', 'b:2003', 'c:2003'] }, 'carbon');
    expect(out.map((s) => s.key)).toEqual(['carbon@a:2003', 'carbon@b:2003', 'carbon@c:2003']);
    const choose = out[0]!.group!.choose!;
    expect(out.every((s) => s.group!.choose === choose)).toBe(true);
    expect([0, 1, 2]).toContain(choose('servers.h.cpu.total.user'));
  });
});
