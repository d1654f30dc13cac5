// `sonde collect <name|file>`: runs one collector a few times and prints its samples as Graphite
// lines, for plugin authors and for checking a collector on a host.
import { standaloneSection } from '../config/collector-section.js';
import type { GlobalConfig } from '../config/global-schema.js';
import type { CollectorSection } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { plaintextLine } from '../model/value-format.js';
import type { ParserDefinition } from '../plugin-api.js';
import { importPluginFile } from '../plugins/loader.js';
import type { AnyCollector, Registry } from '../plugins/registry.js';
import { Pipeline } from '../runtime/pipeline.js';
import { didYouMean } from '../config/suggest.js';

export interface CollectOptions {
  readonly target: string;
  readonly count: number;
  readonly intervalMs: number;
  /** The configured section, when a config file was given and has one. */
  readonly section: CollectorSection | undefined;
  /** Parsers by name and alias (the logs collector). */
  readonly parsers?: ReadonlyMap<string, ParserDefinition>;
  readonly global: Pick<GlobalConfig, 'path_prefix' | 'path_suffix' | 'hostname' | 'hostname_method' | 'proc_root' | 'sys_root'> & Partial<Pick<GlobalConfig, 'max_names_per_collector'>>;
}

function isFile(target: string): boolean {
  return target.includes('/') || target.endsWith('.js') || target.endsWith('.mjs');
}

/** A name that is no collector: the command line is wrong (exit 64), not the run. */
export class UnknownCollectorError extends Error {}

export async function findCollector(target: string, registry: Registry): Promise<AnyCollector> {
  if (isFile(target)) {
    const defs = await importPluginFile(target);
    const c = defs.find((d) => d.kind === 'collector');
    if (!c) throw new Error(`${target} exports no collector (kind: "collector")`);
    const problem = registry.add(c, target);
    if (problem && !problem.includes('already exists')) throw new Error(`${target}: ${problem}`);
    return c as AnyCollector;
  }
  const c = registry.collectors.get(target);
  if (!c) {
    const names = [...registry.collectors.keys()];
    throw new UnknownCollectorError(`no collector named "${target}"${didYouMean(target, names, 'collector')} (available: ${names.join(', ')}; a plugin file is named by its path, e.g. ./my-collector.mjs)`);
  }
  return c;
}

export async function collectOne(plugin: AnyCollector, opts: CollectOptions, log: Logger, write: (s: string) => void): Promise<number> {
  let section = opts.section;
  if (!section || section.plugin !== plugin) section = standaloneSection(plugin, {}, { interval: opts.intervalMs });
  // A person watches a preview: every run says what is wrong with it, nothing is held back.
  const pipeline = new Pipeline(log, { throttleMs: 0 });
  pipeline.parsers = opts.parsers ?? new Map();
  await pipeline.setNaming(opts.global);
  // A preview: offsets and other collector state stay in memory.
  const runner = pipeline.runner(section, opts.global, { persistent: false });
  let status = 0;
  for (let i = 0; i < opts.count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, opts.intervalMs));
    // Raced against the timeout: a collect() that never settles must not leave the command
    // waiting on nothing (node would then exit 0, as if the run had worked).
    const res = await runner.runWithin(Date.now(), section.timeout);
    if (res === 'timeout') {
      const left = opts.count - i - 1;
      log.error(
        `run ${i + 1}: collector ${section.key} did not finish within its timeout of ${section.timeout} ms (its collect() has not returned; it must honour ctx.signal); nothing of this run is printed${left > 0 ? `, and the ${left} run(s) left are not started beside it` : ''}`,
      );
      status = 1;
      break;
    }
    if (res.error) {
      log.error({ err: res.error }, `run ${i + 1}: ${res.error.message}`);
      status = 1;
    }
    let out = '';
    for (const s of res.samples) {
      out += plaintextLine(pipeline.paths.render(s.name), s.value, s.precision, s.timestamp);
    }
    if (res.samples.length === 0 && i === 0) log.info(`run 1 emitted nothing${runner.rates.size > 0 ? ' (rates need a second run)' : ''}`);
    write(out);
  }
  // Bounded: a plugin stuck in collect() may be stuck in close() too.
  await within(runner.close().catch(() => undefined), section.timeout);
  return status;
}

/** Waits for `p`, at most `ms`; the referenced timer keeps node running meanwhile (a pending promise does not). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
