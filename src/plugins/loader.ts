// Loads outside plugins (.js / .mjs files) from the plugin_paths directories.
import { markFromFile } from '../logging/plugin-scope.js';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytes, closest, hostPort, parseHostPort, defineCollector, defineHandler, defineParser, duration, formatValue, mean, percentile, plaintextLine, procfs, statsdName, pyFloat, regex, RejectedSamplesError, PartialSendError, MemcachedClient, MemcachedError, persistQueue, SOURCES, sortNumbers, z, type PluginApi, type PluginDefinition } from '../plugin-api.js';
import { positionText, type Registry } from './registry.js';
import { VERSION } from '../model/version.js';
import { importModule } from './esm-import.js';

export const pluginApi: PluginApi = Object.freeze({ z, duration, bytes, regex, hostPort, parseHostPort, formatValue, plaintextLine, statsdName, pyFloat, mean, percentile, sortNumbers, closest, procfs, SOURCES, defineCollector, defineHandler, defineParser, RejectedSamplesError, PartialSendError, MemcachedClient, MemcachedError, persistQueue, version: VERSION });

export interface LoadReport {
  readonly loaded: { file: string; kind: string; name: string }[];
  /** Directories that do not exist; only worth a warning when the user configured them. */
  readonly missingDirs: string[];
}

/** Lists the plugin files in a directory, in name order. */
function pluginFiles(dir: string): string[] | undefined {
  try {
    if (!statSync(dir).isDirectory()) return undefined;
    return readdirSync(dir)
      .filter((n) => (n.endsWith('.js') || n.endsWith('.mjs')) && !n.startsWith('.'))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return undefined;
  }
}

/** A plugin file that could not be imported: why, and where in the file when that is known. */
export class PluginLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'PluginLoadError';
  }

  /** `file:line:column`, or as much of it as is known. */
  get where(): string {
    return positionText(this.file, this.line, this.column);
  }
}

/**
 * The syntax error in a file, if it has one, and where: node's import() does not say where (its
 * stack is the loader's); `node --check` does (`<file>:<line>`, the line, a caret under the
 * column, then `SyntaxError: ...`). Only run once a file failed to load.
 */
function syntaxError(file: string): { message: string; line?: number; column?: number } | undefined {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0 || typeof r.stderr !== 'string') return undefined;
  const lines = r.stderr.split('\n');
  const said = lines.find((l) => l.startsWith('SyntaxError: '));
  if (!said) return undefined;
  const message = said.slice('SyntaxError: '.length);
  const at = lines.findIndex((l) => l.startsWith(`${file}:`));
  const line = at < 0 ? Number.NaN : Number(lines[at]!.slice(file.length + 1));
  if (!Number.isInteger(line) || line <= 0) return { message };
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return caret >= 0 ? { message, line, column: caret + 1 } : { message, line };
}

/** The line and column of the first stack frame in `file` (an error thrown by the plugin's own code). */
function framePosition(err: unknown, file: string): { line?: number; column?: number } {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  const url = pathToFileURL(file).href;
  for (const frame of stack.split('\n')) {
    const i = frame.indexOf(url);
    if (i < 0) continue;
    const m = /^(?:\?[^:\s)]*)?:(\d+):(\d+)/.exec(frame.slice(i + url.length));
    if (m) return { line: Number(m[1]), column: Number(m[2]) };
  }
  return {};
}

/**
 * Imports one plugin file. Its default export is a plugin object, a list of them, or a function
 * that receives the plugin API and returns either. Named exports are ignored. Throws a
 * PluginLoadError saying what is wrong and, when known, at which line.
 */
export async function importPluginFile(file: string): Promise<PluginDefinition[]> {
  let mtime: number;
  try {
    mtime = statSync(file).mtimeMs;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PluginLoadError(file, code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
  // The mtime in the URL makes a SIGHUP reload pick up an edited plugin instead of the cached module.
  const url = `${pathToFileURL(file).href}?mtime=${Math.floor(mtime)}`;
  let mod: { default?: unknown };
  try {
    mod = (await within(importModule(url), file, 'importing it')) as { default?: unknown };
  } catch (err) {
    if (err instanceof PluginLoadError) throw err;
    const at = framePosition(err, file);
    // Thrown by the file's own code: its frame says where. Otherwise it may not parse.
    const syntax = at.line === undefined ? syntaxError(file) : undefined;
    if (syntax) throw new PluginLoadError(file, `syntax error: ${syntax.message}`, syntax.line, syntax.column);
    throw new PluginLoadError(file, (err as Error).message ?? String(err), at.line, at.column);
  }
  let exported = mod.default;
  if (exported === undefined) throw new PluginLoadError(file, 'it has no default export; write export default (api) => api.defineCollector({...}) (or defineHandler, defineParser)');
  if (typeof exported === 'function') {
    try {
      exported = await within(Promise.resolve((exported as (api: PluginApi) => unknown)(pluginApi)), file, 'its default export');
    } catch (err) {
      if (err instanceof PluginLoadError) throw err;
      const at = framePosition(err, file);
      throw new PluginLoadError(file, `its default export threw: ${(err as Error).message ?? String(err)}`, at.line, at.column);
    }
  }
  const defs = (Array.isArray(exported) ? exported : [exported]) as PluginDefinition[];
  // Their code runs in a scope of its own, so a stray error can be put down to them.
  for (const d of defs) if (typeof d === 'object' && d !== null) markFromFile(d);
  return defs;
}

/** The file a path names, links resolved (the path itself when it cannot be resolved). */
export function realFileOf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** How long a plugin file may take to load (a top-level await, an async default export). */
export const LOAD_TIMEOUT_MS = 10_000;

/** `p`, or a PluginLoadError once it has taken LOAD_TIMEOUT_MS: a plugin that never settles must not stop sonde starting. */
async function within<T>(p: Promise<T>, file: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PluginLoadError(file, `${what} did not finish within ${LOAD_TIMEOUT_MS / 1000} s (a top-level await or a promise that never settles); load nothing slow at import, do it in init(ctx)`)),
      LOAD_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Plugin names a file seems to define (`name: 'x'`), for a file that failed before it could say. */
function namesInText(file: string): string[] {
  try {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/\bname\s*:\s*(['"`])([a-z][a-z0-9_]*)\1/g)].map((m) => m[2]!);
  } catch {
    return [];
  }
}

/** Loads every plugin in the directories; failures go to registry.failures and never throw. */
export async function loadPluginDirs(dirs: readonly string[], registry: Registry, skip: ReadonlySet<string> = new Set()): Promise<LoadReport> {
  const report: LoadReport = { loaded: [], missingDirs: [] };
  for (const dir of dirs) {
    const files = pluginFiles(dir);
    if (files === undefined) {
      report.missingDirs.push(dir);
      continue;
    }
    for (const file of files) {
      // Loaded already, from the command line (`sonde collect <file>`).
      if (skip.size > 0 && skip.has(realFileOf(file))) continue;
      let defs: PluginDefinition[];
      try {
        defs = await importPluginFile(file);
      } catch (err) {
        const e = err instanceof PluginLoadError ? err : new PluginLoadError(file, String(err));
        registry.failures.push({ file, reason: `failed to load: ${e.message}`, line: e.line, column: e.column, names: namesInText(file) });
        continue;
      }
      for (const def of defs) {
        const problem = registry.add(def, file);
        if (problem) {
          const name = typeof def === 'object' && def !== null && typeof def.name === 'string' ? def.name : undefined;
          registry.failures.push({ file, reason: problem, names: name !== undefined ? [name] : namesInText(file) });
        } else report.loaded.push({ file, kind: def.kind, name: def.name });
      }
    }
  }
  return report;
}
