// Validates the merged config against the global schema and each plugin's schema, and turns it
// into the typed AgentConfig the agent runs from. Every problem names file, line and key.
import type { z } from 'zod';
import { ConfigError, type ConfigProblem, type RawConfig } from './read-files.js';
import { globalSchema, type GlobalConfig } from './global-schema.js';
import type { AgentConfig, CollectorSection, HandlerSection } from './types.js';
import { collectorSchema, collectorSection, splitSection } from './collector-section.js';
import { handlerSchema, handlerSections } from './handler-section.js';
import { describeValue, issueProblems } from './issue-wording.js';
import { pickPlugin } from './plugin-choice.js';
import { applySecretFiles } from './secret-files.js';
import { failedPluginText, type Registry } from '../plugins/registry.js';
import type { KeyPath } from './yaml-source.js';
import { DEFAULT_PLUGIN_PATHS } from './defaults.js';
import { statSync } from 'node:fs';

/** Validates `value` at `base`: `_file` secrets read first, every issue added to `problems` with its position. */
function validateWith<S extends z.ZodType>(schema: S, value: unknown, base: KeyPath, raw: RawConfig, problems: ConfigProblem[]): z.output<S> | undefined {
  applySecretFiles(value, schema, base, raw, problems);
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  for (const issue of withoutLooserBounds(r.error.issues)) problems.push(...issueProblems(issue, base, schema, raw));
  return undefined;
}

/**
 * A whole number past 2^53 breaks both zod's safe-integer bound and the key's own `.max()`: keep the
 * tighter one, the only one worth saying.
 */
function withoutLooserBounds(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const tightest = new Map<string, number>();
  const key = (i: z.core.$ZodIssue) => `${i.code}\u0000${i.path.map(String).join('\u0000')}`;
  for (const i of issues) {
    if (i.code !== 'too_big') continue;
    const max = Number(i.maximum);
    const k = key(i);
    const prev = tightest.get(k);
    if (prev === undefined || max < prev) tightest.set(k, max);
  }
  return issues.filter((i) => i.code !== 'too_big' || Number(i.maximum) === tightest.get(key(i)));
}

/** A section's options as a fresh mapping (empty for `key:` alone), or a problem when it is not one. */
function sectionObject(value: unknown, p: KeyPath, raw: RawConfig, problems: ConfigProblem[]): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return { ...(value as Record<string, unknown>) };
  problems.push({ origin: raw.originOf(p), path: p, message: `expected a mapping of options (write {} for the defaults), got ${describeValue(value)}` });
  return undefined;
}

function sectionsOnly(value: Record<string, unknown>): GlobalConfig {
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return { ...globalSchema.parse({}), collectors: obj(value.collectors), handlers: obj(value.handlers) };
}

/**
 * Why a plugin directory gave no plugins, or undefined when that is expected: the default
 * /etc/sonde/plugins is absent on most hosts that are not running the Debian package (a source
 * checkout, a container), and an absent directory of the default list has nothing to load anyway.
 * A directory the operator named that is missing, or any that cannot be read, is worth a warning.
 */
function pluginDirProblem(dir: string): string | undefined {
  try {
    if (statSync(dir).isDirectory()) return 'cannot be listed (is it readable by the user sonde runs as?)';
    return 'is not a directory';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && DEFAULT_PLUGIN_PATHS.includes(dir)) return undefined;
    if (code === 'ENOENT') return 'does not exist';
    if (code === 'EACCES') return 'cannot be reached (permission denied on a parent directory)';
    return `cannot be read (${(err as Error).message})`;
  }
}

/** `missingPluginDirs`: the plugin_paths directories the loader could not list (LoadReport.missingDirs). */
export function validateConfig(raw: RawConfig, registry: Registry, missingPluginDirs: readonly string[] = []): AgentConfig {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const unloaded: string[] = [];
  const parsedGlobal = validateWith(globalSchema, raw.value, [], raw, problems);
  // With an error elsewhere at the top level, still check the sections, so that one run of
  // check-config shows every problem; they are judged against the default interval then.
  const global = parsedGlobal ?? sectionsOnly(raw.value);

  const collectors: CollectorSection[] = [];
  for (const [key, value] of Object.entries(global.collectors)) {
    const p: KeyPath = ['collectors', key];
    const section = sectionObject(value, p, raw, problems);
    if (!section) continue;
    const plugin = pickPlugin('collector', key, section, registry.collectors, registry, p, raw, problems, warnings, unloaded);
    if (!plugin) continue;
    const parsed = validateWith(collectorSchema(plugin), section, p, raw, problems) as Record<string, unknown> | undefined;
    if (!parsed) continue;
    const { core, own } = splitSection(parsed);
    const { enabled, interval, timeout, path } = core;
    if (plugin.check) {
      const before = problems.length;
      const at = (rel: readonly (string | number)[]): KeyPath => [...p, ...rel];
      plugin.check(own, {
        parser: (name) => registry.parsers.get(name),
        parserNames: registry.parserList().flatMap((x) => [x.name, ...x.aliases]),
        failedPlugin: (kind, name) => {
          const f = registry.failedToLoad(name);
          return f ? failedPluginText(kind, f) : undefined;
        },
        problem: (rel, message) => problems.push({ origin: raw.originOf(at(rel)), path: at(rel), message }),
        validate: (schema, value, rel) => validateWith(schema, value, at(rel), raw, problems),
      });
      if (problems.length > before) continue;
    }
    // The schemas bound interval and timeout each at their own key (the global interval at its
    // line, not at a section that inherits it); what is left is how the two relate.
    const iv = interval ?? global.interval;
    const to = timeout ?? iv;
    if (to > iv) {
      problems.push({ origin: raw.originOf([...p, 'timeout']), path: [...p, 'timeout'], message: `must not be longer than the interval (${iv} ms): runs of one collector never overlap` });
      continue;
    }
    collectors.push(
      collectorSection(plugin, own, {
        key,
        enabled,
        interval: iv,
        timeout: to,
        path,
        maxNames: core.maxNames ?? global.max_names_per_collector,
        fingerprint: JSON.stringify([plugin.name, value, iv, global.proc_root, global.sys_root, global.max_names_per_collector]),
      }),
    );
  }

  const handlers: HandlerSection[] = [];
  for (const [key, value] of Object.entries(global.handlers)) {
    const p: KeyPath = ['handlers', key];
    const section = sectionObject(value, p, raw, problems);
    if (!section) continue;
    const plugin = pickPlugin('handler', key, section, registry.handlers, registry, p, raw, problems, warnings, unloaded);
    if (!plugin) continue;
    const parsed = validateWith(handlerSchema(plugin), section, p, raw, problems) as Record<string, unknown> | undefined;
    if (!parsed) continue;
    const warn = (rel: KeyPath, message: string): void => {
      const o = raw.originOf([...p, ...rel]);
      warnings.push(`${o.line === undefined ? o.file : `${o.file}:${o.line}`}: ${message}`);
    };
    handlers.push(...handlerSections(plugin, parsed, { key, fingerprint: JSON.stringify([plugin.name, value]), warn }));
  }

  if (problems.length > 0 || !parsedGlobal) throw new ConfigError(problems);
  parsedGlobal.plugin_paths.forEach((dir, i) => {
    const why = missingPluginDirs.includes(dir) ? pluginDirProblem(dir) : undefined;
    if (why === undefined) return;
    const o = raw.originOf(['plugin_paths', i]);
    warnings.push(`${o.line === undefined ? o.file : `${o.file}:${o.line}`}: plugin_paths: the plugin directory ${dir} ${why}: no plugins are loaded from it. Create it, or take it out of plugin_paths`);
  });
  const { collectors: _c, handlers: _h, ...rest } = parsedGlobal;
  return { ...rest, collectors, handlers, files: raw.files, warnings, unloaded };
}
