// Builds a runner for one built-in collector with options, as the agent would after validation.
import { expect } from 'vitest';
import { CollectorRunner, type RunnerDeps } from '../../src/runtime/collector-runner.js';
import { standaloneSection } from '../../src/config/collector-section.js';
import { relativePath } from '../../src/model/naming.js';
import { builtinRegistry } from '../../src/plugins/builtin.js';
import type { AnyCollector } from '../../src/plugins/registry.js';

const registry = builtinRegistry();

export function builtinRunner(name: string, options: Record<string, unknown>, deps: RunnerDeps): CollectorRunner {
  const plugin = registry.collectors.get(name) as AnyCollector;
  return new CollectorRunner(standaloneSection(plugin, options, { interval: 10_000, path: name }), deps);
}

/** One run; the samples as `relative.path -> value`. */
export async function collectOnce(r: CollectorRunner): Promise<Map<string, number>> {
  const res = await r.run(Date.now(), new AbortController().signal);
  expect(res.error).toBeUndefined();
  return new Map(res.samples.map((s) => [relativePath(s.name), s.value]));
}
