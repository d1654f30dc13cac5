// `sonde logster --config FILE -o <handler>`: a handler configured in sonde.yaml as an output
// (e.g. `-o carbon` for a graphite section using pickle and failover). With --config, a handler
// section of the same name wins over Logster's output of that name. The figures go through the
// handler's own code and the core's outbox, with Logster's names; the run's offset moves only
// when the handler accepted every figure. No disk spool: it belongs to the agent that owns the
// handler, and a cron run that could not send keeps its offset instead.
import type { LogsterArgs } from './args.js';
import { metricName, type LogsterOutput } from './outputs.js';
import type { ParsedMetric, ParserDefinition, PluginLogger } from '../plugin-api.js';
import type { Sample } from '../model/sample.js';
import { suggestion } from '../config/suggest.js';

/** How long one run waits for a handler (retries included) before giving up with exit 1. */
const DEADLINE_MS = 10_000;

export interface ConfigHandlers {
  /** Handler section names (a split section by its own name). */
  readonly names: ReadonlySet<string>;
  output(name: string, a: LogsterArgs, log: PluginLogger): LogsterOutput;
  /** Parser plugins of the config's plugin_paths (no built-ins), by name and alias. */
  readonly parsers: ReadonlyMap<string, ParserDefinition>;
  /** `the parser plugin at <file:line> failed to load: <why>` for the plugin file that would define parser `name`, if one failed. */
  failedParser(name: string): string | undefined;
}

/**
 * Loads `--config FILE` for its handlers; a config problem is a usage error (exit 2), made by
 * `usageError` (this module is its own bundle, so it cannot share the caller's error class).
 */
export async function loadConfigHandlers(file: string, usageError: (message: string) => Error): Promise<ConfigHandlers> {
  const [{ loadConfig }, { isConfigProblem }, { HandlerSlot }, { NameTable, relativePath }] = await Promise.all([
    import('../config/load-config.js'),
    import('../config/errors.js'),
    import('../delivery/handler-slot.js'),
    import('../model/naming.js'),
  ]);
  let loaded;
  try {
    loaded = await loadConfig(file);
  } catch (err) {
    if (isConfigProblem(err)) throw usageError(`--config ${file} is invalid:\n${err.message}\nFix it, then check it with "sonde check-config --config ${file}".`);
    throw err;
  }
  const handlers = loaded.config.handlers;
  const names = new Set(handlers.map((h) => h.group?.name ?? h.key));
  const { failedPluginText } = await import('../plugins/registry.js');
  return {
    names,
    parsers: new Map([...loaded.registry.parsers].filter(([, def]) => loaded.registry.sources.get(def) !== 'built-in')),
    failedParser: (name) => {
      const f = loaded.registry.failedToLoad(name);
      return f ? failedPluginText('parser', f) : undefined;
    },
    output(name, a, log) {
      // A section split into parts (graphite mode: replicate or shard) is used whole.
      const sections = handlers.filter((h) => h.key === name || h.group?.name === name);
      if (sections.length === 0) {
        const hint = suggestion(name, [...names, 'stdout', 'graphite', 'statsd', 'ganglia', 'nsca']);
        throw usageError(
          `unknown output ${name}${hint ? ` (${hint})` : ''}: it is not one of Logster's (stdout, graphite, statsd, ganglia, nsca) and ${file} has no handler section named ${name}${names.size ? ` (it has: ${[...names].join(', ')})` : ' (it has none)'}`,
        );
      }
      const table = new NameTable('');
      return {
        name,
        async submit(metrics: readonly ParsedMetric[], timestamp: number) {
          const samples: Sample[] = metrics.map((m) => ({ name: table.get(metricName(a, m.name, '.')), value: m.value, kind: m.kind ?? 'gauge', timestamp: timestamp * 1000, precision: undefined }));
          const failures: string[] = [];
          await Promise.all(
            sections.map(async (section) => {
              const g = section.group;
              const mine = g?.choose ? samples.filter((s) => g.choose!(relativePath(s.name)) === g.index) : samples;
              if (mine.length === 0) return;
              let lastError = '';
              const slot = new HandlerSlot(section, { render: relativePath }, log, {
                sendFailed: (err, attempt, retryInMs) => {
                  lastError = err.message;
                  log.warn(`handler ${section.key}: send failed (attempt ${attempt}, next in ${Math.round(retryInMs / 100) / 10} s): ${err.message}`);
                },
                recovered: () => undefined,
                dropped: () => undefined,
              });
              slot.outbox.push(mine);
              const unsent = await slot.outbox.drain(performance.now() + DEADLINE_MS);
              await slot.close().catch(() => undefined);
              if (unsent.length > 0) failures.push(`handler ${section.key} sent ${mine.length - unsent.length} of ${mine.length} figures in ${DEADLINE_MS / 1000} s (${lastError || 'no answer'})`);
            }),
          );
          if (failures.length > 0) throw new Error(failures.join('; '));
        },
      };
    },
  };
}
