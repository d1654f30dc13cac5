// `sonde check-config`: what a valid config leaves to be warned about, and the facts of a check
// as JSON (`--json`) for scripts and configuration management.
import type { LoadedConfig } from '../config/load-config.js';
import { noHandlerHint } from '../config/issue-wording.js';
import type { ConfigProblem } from '../config/read-files.js';
import { formatPath } from '../config/yaml-source.js';
import { failureText, positionText } from '../plugins/registry.js';

/** Everything about a valid config that still deserves a look, one sentence each (most with file:line). */
export function checkWarnings(loaded: LoadedConfig): string[] {
  const c = loaded.config;
  // A plugin file that failed to load is a warning when no section needs it; a section that
  // does is an error (unloadedProblems), said there and not twice.
  const named = (f: { file: string; line?: number | undefined; column?: number | undefined }) => c.unloaded.some((u) => u.includes(` ${positionText(f.file, f.line, f.column)} `));
  const out = loaded.registry.failures.filter((f) => !named(f)).map((f) => `plugin not loaded: ${failureText(f)}`);
  const unloaded = new Set(c.unloaded);
  out.push(...c.warnings.filter((w) => !unloaded.has(w)));
  if (!c.handlers.some((h) => h.enabled)) out.push(noHandlerHint(c.files, 'agent'));
  return out;
}

/** The sections whose plugin failed to load, each `file:line: key: ...`: such a config is not valid as written. */
export function unloadedProblems(loaded: LoadedConfig): readonly string[] {
  return loaded.config.unloaded;
}

/** A located problem as `--json` gives it. */
export interface ProblemJson {
  readonly file: string;
  readonly line: number | null;
  /** The dotted key (`collectors.cpu.percore`); null for the file as a whole. */
  readonly key: string | null;
  readonly message: string;
}

/** What `sonde check-config --json` prints (README, "check-config --json"). */
export interface CheckJson {
  /** 0 valid, 78 invalid (or, with --strict, warned about): the command's exit status. */
  readonly status: number;
  readonly valid: boolean;
  readonly files: readonly string[];
  readonly collectors: readonly { section: string; plugin: string; enabled: boolean; interval_ms: number; timeout_ms: number; path: string }[];
  readonly handlers: readonly { section: string; plugin: string; enabled: boolean }[];
  readonly warnings: readonly string[];
  readonly problems: readonly ProblemJson[];
}

export function problemJson(p: ConfigProblem): ProblemJson {
  return { file: p.origin.file, line: p.origin.line ?? null, key: p.path.length === 0 ? null : formatPath(p.path), message: p.message };
}

export function validJson(loaded: LoadedConfig, warnings: readonly string[], status: number): CheckJson {
  const c = loaded.config;
  return {
    status,
    valid: true,
    files: c.files,
    collectors: c.collectors.map((s) => ({ section: s.key, plugin: s.plugin.name, enabled: s.enabled, interval_ms: s.interval, timeout_ms: s.timeout, path: s.path })),
    handlers: c.handlers.map((h) => ({ section: h.key, plugin: h.plugin.name, enabled: h.enabled })),
    warnings,
    problems: [],
  };
}

export function invalidJson(files: readonly string[], problems: readonly ProblemJson[]): CheckJson {
  return { status: 78, valid: false, files, collectors: [], handlers: [], warnings: [], problems };
}
