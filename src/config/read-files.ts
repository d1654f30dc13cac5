// Finds, reads and merges sonde.yaml and its conf.d drop-ins, and substitutes ${ENV_VAR}s.
// Every key remembers the file and line it came from, for error messages.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileTooLargeError, NotRegularFileError, readRegularFile } from '../files/regular-file.js';
import { formatPath, parseYaml, pathKey, type KeyPath, type YamlSource } from './yaml-source.js';

export interface Origin {
  readonly file: string;
  readonly line: number | undefined;
}

/** One problem in the config, already located. */
export interface ConfigProblem {
  readonly origin: Origin;
  readonly path: KeyPath;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.origin.line === undefined ? p.origin.file : `${p.origin.file}:${p.origin.line}`;
  return p.path.length === 0 ? `${where}: ${p.message}` : `${where}: ${formatPath(p.path)}: ${p.message}`;
}

/** Problems printed at most; a config wrong in thousands of places is wrong in one way, shown by the first ones. */
const SHOWN_PROBLEMS = 100;

/** Thrown when the config cannot be used; the agent exits 78 (EX_CONFIG) with these lines. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    const lines = problems.slice(0, SHOWN_PROBLEMS).map(formatProblem);
    if (problems.length > SHOWN_PROBLEMS) lines.push(`... and ${problems.length - SHOWN_PROBLEMS} more problems, not shown; fix the ones above first`);
    super(lines.join('\n'));
    this.name = 'ConfigError';
  }
}

/** A config file larger than this is refused unread: sonde.yaml and its drop-ins are a few KiB. */
export const MAX_CONFIG_BYTES = 256 * 1024;

export interface RawConfig {
  /** The merged tree, before validation. */
  readonly value: Record<string, unknown>;
  /** The files read, main file first. */
  readonly files: readonly string[];
  /** Where a key path was last set; falls back to the closest parent that is known. */
  originOf(path: KeyPath): Origin;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why a file or directory could not be read, in an operator's words. */
function readFailure(err: unknown): string {
  if (err instanceof NotRegularFileError) return `it is ${err.kind}, not a regular file`;
  if (err instanceof FileTooLargeError) return `it is larger than ${err.limit / 1024} KiB, far more than a config holds (is it the file you meant?)`;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES') return `permission denied (is it readable by user ${os.userInfo().username}?)`;
  if (e.code === 'ENOTDIR') return 'it is not a directory';
  return e.message;
}

/**
 * The drop-ins next to the main file: `<dir>/conf.d/*.yaml|*.yml`, in name order. No conf.d is
 * none; a conf.d that cannot be listed is a config error, since its drop-ins would be left out.
 */
export function dropInFiles(mainFile: string): string[] {
  const dir = path.join(path.dirname(mainFile), 'conf.d');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError([
      { origin: { file: dir, line: undefined }, path: [], message: `cannot read the drop-in directory: ${readFailure(err)}; its drop-ins would be left out. Make it a directory sonde can read, or remove it` },
    ]);
  }
  return names
    .filter((n) => (n.endsWith('.yaml') || n.endsWith('.yml')) && !n.startsWith('.'))
    .sort()
    .map((n) => path.join(dir, n));
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in a string; `$${` stands for a literal `${`.
 * Returns the missing variable's name instead when one is unset and has no default.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv): { value: string } | { missing: string } {
  let missing: string | undefined;
  const value = text.replace(ENV_REF, (whole, name: string | undefined, def: string | undefined) => {
    if (whole === '$${') return '${';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    missing ??= name;
    return '';
  });
  return missing === undefined ? { value } : { missing };
}

export function loadRawConfig(mainFile: string, env: NodeJS.ProcessEnv = process.env): RawConfig {
  const files = [mainFile, ...dropInFiles(mainFile)];
  const origins = new Map<string, Origin>();
  const problems: ConfigProblem[] = [];
  let merged: Record<string, unknown> = {};

  for (const file of files) {
    let text: string;
    try {
      // A FIFO or a device here would block the read or never end it: only regular files are read.
      text = readRegularFile(file, MAX_CONFIG_BYTES);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const main = file === mainFile;
      const why = e.code === 'ENOENT' ? 'no such file' : readFailure(err);
      const fix = !main ? '; move it out of conf.d, or make it a YAML file sonde can read' : e.code === 'EACCES' ? '' : '; pass --config with the path of your sonde.yaml';
      throw new ConfigError([{ origin: { file, line: undefined }, path: [], message: `cannot read the ${main ? 'config' : 'drop-in'}: ${why}${fix}` }]);
    }
    const src = parseYaml(text, file); // YamlSyntaxError carries file and line
    if (!isPlainObject(src.value)) {
      problems.push({ origin: { file, line: 1 }, path: [], message: 'expected a mapping of keys (such as "interval: 10s") at the top level' });
      continue;
    }
    merged = mergeInto(merged, src.value, [], src, origins);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const originOf = (p: KeyPath): Origin => {
    for (let n = p.length; n >= 0; n--) {
      const o = origins.get(pathKey(p.slice(0, n)));
      if (o !== undefined) return o;
    }
    return { file: mainFile, line: undefined };
  };

  substituteTree(merged, [], env, originOf, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { value: merged, files, originOf };
}

/** Deep-merges `overlay` into `base`: mappings merge key by key, anything else is replaced. */
function mergeInto(
  base: Record<string, unknown>,
  overlay: Record<string, unknown>,
  at: KeyPath,
  src: YamlSource,
  origins: Map<string, Origin>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    const p = [...at, k];
    const prev = out[k];
    if (isPlainObject(prev) && isPlainObject(v)) {
      recordOrigin(p, src, origins, false);
      out[k] = mergeInto(prev, v, p, src, origins);
    } else {
      recordOrigin(p, src, origins, true);
      recordSubtree(v, p, src, origins);
      out[k] = v;
    }
  }
  return out;
}

function recordOrigin(p: KeyPath, src: YamlSource, origins: Map<string, Origin>, replace: boolean): void {
  const key = pathKey(p);
  if (!replace && origins.has(key)) return;
  origins.set(key, { file: src.file, line: src.lines.get(key) });
}

function recordSubtree(v: unknown, at: KeyPath, src: YamlSource, origins: Map<string, Origin>): void {
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const p = [...at, i];
      origins.set(pathKey(p), { file: src.file, line: src.lines.get(pathKey(p)) });
      recordSubtree(item, p, src, origins);
    });
  } else if (isPlainObject(v)) {
    for (const [k, item] of Object.entries(v)) {
      const p = [...at, k];
      origins.set(pathKey(p), { file: src.file, line: src.lines.get(pathKey(p)) });
      recordSubtree(item, p, src, origins);
    }
  }
}

function substituteTree(
  node: Record<string, unknown> | unknown[],
  at: KeyPath,
  env: NodeJS.ProcessEnv,
  originOf: (p: KeyPath) => Origin,
  problems: ConfigProblem[],
): void {
  const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
  for (const [k, v] of entries) {
    const p = [...at, k];
    if (typeof v === 'string' && v.includes('${')) {
      const r = substituteEnv(v, env);
      if ('missing' in r) {
        problems.push({
          origin: originOf(p),
          path: p,
          message: `environment variable ${r.missing} is not set; set it in the service's environment or write \${${r.missing}:-default}`,
        });
      } else {
        (node as Record<string | number, unknown>)[k] = r.value;
      }
    } else if (Array.isArray(v) || isPlainObject(v)) {
      substituteTree(v, p, env, originOf, problems);
    }
  }
}
