// Validates the merged config against the global schema and each plugin's schema, and turns it
// into the typed AgentConfig the agent runs from. Every problem names file, line and key.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type ConfigProblem, type RawConfig } from './read-files.js';
import { globalSchema, handlerCommonShape, type GlobalConfig } from './global-schema.js';
import type { AgentConfig, CollectorSection, HandlerSection } from './types.js';
import { collectorSchema, collectorSection, splitSection } from './collector-section.js';
import { parseDuration } from '../model/duration.js';
import type { AnyCollector, AnyHandler, Registry } from '../plugins/registry.js';
import type { KeyPath } from './yaml-source.js';
import { childSchema, closest, defOf, objectKeys, schemaAt, unwrap } from '../schema/introspect.js';

const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_FLUSH = '1s';

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping of keys',
  array: 'a list',
  record: 'a mapping of keys',
};

/** Turns one zod issue into located problems. */
function issueProblems(issue: z.core.$ZodIssue, base: KeyPath, schema: z.ZodType, raw: RawConfig): ConfigProblem[] {
  const local = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const path = [...base, ...local];
  const at = (p: KeyPath, message: string): ConfigProblem => ({ origin: raw.originOf(p), path: p, message });
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return [at(path, `is required (${ARTICLE[issue.expected] ?? issue.expected})`)];
      return [at(path, `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describeValue(input)}`)];
    }
    case 'unrecognized_keys': {
      const known = objectKeys(schemaAt(schema, local) ?? schema) ?? [];
      return issue.keys.map((k) => {
        const hint = closest(k, known);
        const msg = hint ? `unknown key; did you mean "${hint}"?` : `unknown key; known keys here: ${known.join(', ')}`;
        return at([...path, k], msg);
      });
    }
    case 'invalid_value':
      return [at(path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(input)}`)];
    case 'too_small':
      return [at(path, `must be at least ${String(issue.minimum)}, got ${describeValue(input)}`)];
    case 'too_big':
      return [at(path, `must be at most ${String(issue.maximum)}, got ${describeValue(input)}`)];
    case 'invalid_union': {
      // Our unions are duration/size (string or number); anything else lands here.
      return [at(path, `expected a duration or size such as 10s or 64MiB, got ${describeValue(input)}`)];
    }
    default:
      return [at(path, issue.message)];
  }
}

/**
 * Replaces `<key>_file: /path` by `<key>: <contents of the file>` wherever the schema has `<key>`
 * and no `<key>_file` of its own, so secrets stay out of the config file.
 */
function applySecretFiles(node: unknown, schema: z.ZodType, at: KeyPath, raw: RawConfig, problems: ConfigProblem[]): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    const el = childSchema(schema, 0);
    if (el) node.forEach((item, i) => applySecretFiles(item, el, [...at, i], raw, problems));
    return;
  }
  const obj = node as Record<string, unknown>;
  const isObject = defOf(unwrap(schema)).type === 'object';
  const keys = isObject ? new Set(objectKeys(schema)) : undefined;
  for (const key of Object.keys(obj)) {
    if (keys && key.endsWith('_file') && !keys.has(key)) {
      const target = key.slice(0, -'_file'.length);
      if (keys.has(target)) {
        const p = [...at, key];
        const file = obj[key];
        // Whatever happens below, the key is handled here: never report it again as unknown.
        delete obj[key];
        if (typeof file !== 'string') {
          problems.push({ origin: raw.originOf(p), path: p, message: `expected the path of a file holding ${target}, got ${describeValue(file)}` });
        } else if (obj[target] !== undefined) {
          problems.push({ origin: raw.originOf(p), path: p, message: `set either ${target} or ${key}, not both` });
        } else {
          try {
            obj[target] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
          } catch (err) {
            const e = err as NodeJS.ErrnoException;
            problems.push({ origin: raw.originOf(p), path: p, message: `cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied (is it readable by the sonde user?)' : e.message}` });
          }
        }
        continue;
      }
    }
    const child = childSchema(schema, key);
    if (child) applySecretFiles(obj[key], child, [...at, key], raw, problems);
  }
}

function validateWith<S extends z.ZodType>(schema: S, value: unknown, base: KeyPath, raw: RawConfig, problems: ConfigProblem[]): z.output<S> | undefined {
  applySecretFiles(value, schema, base, raw, problems);
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  for (const issue of r.error.issues) problems.push(...issueProblems(issue, base, schema, raw));
  return undefined;
}

function sectionObject(value: unknown, p: KeyPath, raw: RawConfig, problems: ConfigProblem[]): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return { ...(value as Record<string, unknown>) };
  problems.push({ origin: raw.originOf(p), path: p, message: `expected a mapping of options (write {} for the defaults), got ${describeValue(value)}` });
  return undefined;
}

function pickPlugin<T extends { name: string }>(
  kind: 'collector' | 'handler',
  key: string,
  section: Record<string, unknown>,
  plugins: ReadonlyMap<string, T>,
  registry: Registry,
  p: KeyPath,
  raw: RawConfig,
  problems: ConfigProblem[],
  warnings: string[],
): T | undefined {
  const type = typeof section.type === 'string' ? section.type : key;
  const plugin = plugins.get(type);
  if (plugin) return plugin;
  const failed = registry.failedToLoad(type);
  if (failed) {
    warnings.push(`${raw.originOf(p).file}: ${kind} "${type}" is configured but its plugin ${failed.file} ${failed.reason}; the rest of the agent runs without it`);
    return undefined;
  }
  const names = [...plugins.keys()];
  const hint = closest(type, names);
  const where: KeyPath = typeof section.type === 'string' ? [...p, 'type'] : p;
  problems.push({
    origin: raw.originOf(where),
    path: where,
    message: `no ${kind} named "${type}"${hint ? `; did you mean "${hint}"?` : ''} (available: ${names.join(', ') || 'none'}; run "sonde list")`,
  });
  return undefined;
}

function sectionsOnly(value: Record<string, unknown>): GlobalConfig {
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return { ...globalSchema.parse({}), collectors: obj(value.collectors), handlers: obj(value.handlers) };
}

export function validateConfig(raw: RawConfig, registry: Registry): AgentConfig {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const parsedGlobal = validateWith(globalSchema, raw.value, [], raw, problems);
  // With an error elsewhere at the top level, still check the sections, so that one run of
  // check-config shows every problem; they are judged against the default interval then.
  const global = parsedGlobal ?? sectionsOnly(raw.value);

  const collectors: CollectorSection[] = [];
  for (const [key, value] of Object.entries(global.collectors)) {
    const p: KeyPath = ['collectors', key];
    const section = sectionObject(value, p, raw, problems);
    if (!section) continue;
    const plugin = pickPlugin('collector', key, section, registry.collectors, registry, p, raw, problems, warnings);
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
        problem: (rel, message) => problems.push({ origin: raw.originOf(at(rel)), path: at(rel), message }),
        validate: (schema, value, rel) => validateWith(schema, value, at(rel), raw, problems),
      });
      if (problems.length > before) continue;
    }
    const iv = interval ?? global.interval;
    if (iv < 100) {
      problems.push({ origin: raw.originOf([...p, 'interval']), path: [...p, 'interval'], message: `must be at least 100ms, got ${iv}ms` });
      continue;
    }
    const to = timeout ?? iv;
    if (to > iv) {
      problems.push({ origin: raw.originOf([...p, 'timeout']), path: [...p, 'timeout'], message: `must not be longer than the interval (${iv} ms): runs of one collector never overlap` });
      continue;
    }
    collectors.push(
      collectorSection(plugin, own, { key, enabled, interval: iv, timeout: to, path, fingerprint: JSON.stringify([plugin.name, value, iv, global.proc_root, global.sys_root]) }),
    );
  }

  const handlers: HandlerSection[] = [];
  for (const [key, value] of Object.entries(global.handlers)) {
    const p: KeyPath = ['handlers', key];
    const section = sectionObject(value, p, raw, problems);
    if (!section) continue;
    const plugin = pickPlugin('handler', key, section, registry.handlers, registry, p, raw, problems, warnings);
    if (!plugin) continue;
    const schema = z.strictObject({ ...plugin.schema.shape, ...handlerCommonShape });
    const parsed = validateWith(schema, section, p, raw, problems) as Record<string, unknown> | undefined;
    if (!parsed) continue;
    const { enabled, type: _type, batch_size, flush_interval, queue_size, send_timeout, retry_min, retry_max, spool, spool_max_bytes, spool_max_age, ...own } = parsed as {
      enabled: boolean; type?: string; batch_size?: number; flush_interval?: number; queue_size: number; send_timeout: number; retry_min: number; retry_max: number;
      spool?: boolean; spool_max_bytes: number; spool_max_age: number;
    } & Record<string, unknown>;
    const batchSize = batch_size ?? plugin.outbox?.batch_size ?? DEFAULT_BATCH_SIZE;
    if (queue_size < batchSize) {
      // An outbox must hold at least one batch; say so rather than change the number quietly.
      const o = raw.originOf([...p, 'queue_size']);
      warnings.push(
        `${o.line === undefined ? o.file : `${o.file}:${o.line}`}: handlers.${key}.queue_size (${queue_size}) is smaller than batch_size (${batchSize}); using ${batchSize}. Lower batch_size too if you meant a small queue`,
      );
    }
    const base = {
      key,
      group: undefined,
      plugin,
      enabled,
      outbox: {
        batchSize,
        flushInterval: flush_interval ?? parseDuration(plugin.outbox?.flush_interval ?? DEFAULT_FLUSH) ?? 1000,
        queueSize: Math.max(queue_size, batchSize),
        sendTimeout: send_timeout,
        retryMin: retry_min,
        retryMax: Math.max(retry_max, retry_min),
        spool: spool ?? plugin.outbox?.spool ?? true,
        spoolMaxBytes: spool_max_bytes,
        spoolMaxAge: spool_max_age,
        resendWindow: plugin.resendWindow?.(own) ?? 0,
      },
      config: own,
      fingerprint: JSON.stringify([plugin.name, value]),
    } satisfies HandlerSection;
    const split = plugin.expand?.(own);
    if (!split || split.parts.length <= 1) {
      handlers.push(base);
    } else {
      const choose = split.choose?.bind(split);
      split.parts.forEach((part, index) =>
        handlers.push({ ...base, key: `${key}@${part.label}`, config: part.config as Record<string, unknown>, group: { name: key, index, choose } }),
      );
    }
  }

  if (problems.length > 0 || !parsedGlobal) throw new ConfigError(problems);
  const { collectors: _c, handlers: _h, ...rest } = parsedGlobal;
  return { ...rest, collectors, handlers, files: raw.files, warnings };
}
