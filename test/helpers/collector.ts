// Builds a runner for one built-in collector with options, as the agent would after validation.
import { z } from 'zod';
import { expect } from 'vitest';
import { CollectorRunner, type RunnerDeps } from '../../src/runtime/collector-runner.js';
import { collectorCommonShape } from '../../src/config/global-schema.js';
import { relativePath } from '../../src/model/naming.js';
import { builtinRegistry } from '../../src/plugins/builtin.js';
import type { AnyCollector } from '../../src/plugins/registry.js';

const registry = builtinRegistry();

export function builtinRunner(name: string, options: Record<string, unknown>, deps: RunnerDeps): CollectorRunner {
  const plugin = registry.collectors.get(name) as AnyCollector;
  const parsed = z.strictObject({ ...plugin.schema.shape, ...collectorCommonShape }).parse(options) as Record<string, unknown>;
  const { enabled: _e, type: _t, interval: _i, timeout: _o, path: _p, ...config } = parsed;
  return new CollectorRunner({ key: name, plugin, enabled: true, interval: 10_000, timeout: 10_000, path: name, config, fingerprint: '' }, deps);
}

/** One run; the samples as `relative.path -> value`. */
export async function collectOnce(r: CollectorRunner): Promise<Map<string, number>> {
  const res = await r.run(Date.now(), new AbortController().signal);
  expect(res.error).toBeUndefined();
  return new Map(res.samples.map((s) => [relativePath(s.name), s.value]));
}
