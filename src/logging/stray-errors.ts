// Exceptions and rejections that no caller catches ("stray" errors): whose they are, what is said
// about them, and whether sonde goes on. A plugin's are counted and survived; sonde's own end it.
import { pathToFileURL } from 'node:url';
import type { Logger } from './logger.js';
import { currentPluginScope } from './plugin-scope.js';
import { LogThrottle } from './throttle.js';

/** A plugin file from plugin_paths and the plugins it defines. */
export interface PluginFile {
  readonly file: string;
  readonly names: readonly string[];
}

/** Who a stray error is put down to. */
export interface StrayOwner {
  readonly plugin: string;
  readonly collector: string | undefined;
  /** The plugin's file, when the stack names one from plugin_paths. */
  readonly file: string | undefined;
  /** The plugin's frame on the stack (`/etc/sonde/plugins/x.mjs:12:7`), when there is one. */
  readonly where: string | undefined;
}

export type StrayKind = 'exception' | 'rejection';

/** Built-in plugins when sonde runs from its sources (the bundle has no such frames). */
const BUILTIN_FRAME = /[\\/](collectors|handlers|parsers)[\\/]([a-z][a-z0-9_]*)(?:[\\/][^\\/:()]+)?\.(?:ts|js|mjs):(\d+):(\d+)/;

export function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : `a non-Error value was thrown: ${String(reason)}`);
}

/** Counts stray errors and puts them down to the plugin they came from, where it can be told. */
export class StrayErrors {
  total = 0;
  readonly byCollector = new Map<string, number>();
  private files: { readonly url: string; readonly file: string; readonly names: string }[] = [];

  /** The plugin files loaded now (set again on each reload). */
  setPluginFiles(files: Iterable<PluginFile>): void {
    this.files = [...files].map((f) => ({ url: pathToFileURL(f.file).href, file: f.file, names: f.names.join(', ') }));
  }

  /**
   * The plugin whose scope the error was raised in (its timers and handlers inherit it), else the
   * first frame of its stack in a plugin file; undefined when neither names one: sonde's own.
   */
  owner(err: Error): StrayOwner | undefined {
    const scope = currentPluginScope();
    const stack = typeof err.stack === 'string' ? err.stack : '';
    for (const line of stack.split('\n').slice(1)) {
      for (const f of this.files) {
        const at = line.indexOf(f.url);
        if (at < 0) continue;
        // `file:///p/x.mjs?mtime=123:7:13` -> `/p/x.mjs:7:13`
        const pos = /:(\d+):(\d+)\)?\s*$/.exec(line);
        const where = pos ? `${f.file}:${pos[1]}:${pos[2]}` : f.file;
        return { plugin: scope?.plugin ?? f.names, collector: scope?.collector, file: f.file, where };
      }
      const b = BUILTIN_FRAME.exec(line);
      if (b) return { plugin: scope?.plugin ?? b[2]!, collector: scope?.collector, file: undefined, where: `${b[1]}/${b[2]}:${b[3]}` };
    }
    return scope ? { plugin: scope.plugin, collector: scope.collector, file: undefined, where: undefined } : undefined;
  }

  count(owner: StrayOwner | undefined): void {
    this.total++;
    if (owner?.collector !== undefined) this.byCollector.set(owner.collector, (this.byCollector.get(owner.collector) ?? 0) + 1);
  }
}

function whose(o: StrayOwner): string {
  return `plugin ${o.plugin}${o.collector !== undefined && o.collector !== o.plugin ? ` (collector ${o.collector})` : ''}`;
}

function what(kind: StrayKind): string {
  return kind === 'exception'
    ? 'threw outside its collect(), from a timer, event handler or callback it left running'
    : 'left a promise rejected with nothing waiting for it';
}

function fix(o: StrayOwner): string {
  return `report it to the plugin's author${o.file ? ` (${o.file})` : ''}, or disable ${o.collector !== undefined ? `collector ${o.collector}` : 'the plugin'}`;
}

/**
 * `sonde run`: a plugin's stray error is logged (throttled per plugin), counted in
 * sonde.agent.uncaught_errors, and the agent keeps running; an uncaught exception sonde cannot put
 * down to a plugin is its own: logged as fatal, then `fatal()` ends the process.
 */
export function installAgentErrorHandlers(stray: StrayErrors, log: Logger, fatal: () => void): () => void {
  const throttle = new LogThrottle(undefined, undefined, { maxKeys: 1000 });
  const on = (kind: StrayKind) => (reason: unknown) => {
    const err = asError(reason);
    const o = stray.owner(err);
    stray.count(o);
    if (o === undefined && kind === 'exception') {
      // Not a plugin's: sonde's own code stopped half-way through something, and whatever it was
      // updating (a queue, a spool, the schedule) cannot be trusted. A restart is the safe way on.
      log.fatal(
        { err },
        `uncaught exception in sonde itself, not in any plugin it can name: ${err.message}. sonde exits (status 1) rather than run on with its own state half-updated; its supervisor (systemd Restart=) starts it again. Please report it with the stack (the err field)`,
      );
      fatal();
      return;
    }
    const t = throttle.check(`${kind}:${o?.plugin ?? ''}:${o?.collector ?? ''}`);
    if (!t.log) return;
    if (o === undefined) {
      // A rejection nobody awaited cut no code short: whatever made it has run to its end, so
      // sonde's own state is as consistent as before, and collecting goes on.
      log.error(
        { err, held_back: t.suppressed },
        `a promise was rejected with nothing waiting for it, and no plugin can be named: ${err.message}. The agent keeps running and counts it in sonde.agent.uncaught_errors; if it repeats, report it with the stack (the err field)`,
      );
      return;
    }
    // A plugin's: the plugin may be left half-working, but sonde's own state is untouched (its
    // code was not on the stack), so the other collectors and every handler go on.
    log.error(
      { plugin: o.plugin, collector: o.collector, at: o.where, err, held_back: t.suppressed },
      `${whose(o)} ${what(kind)}: ${err.message}${o.where ? ` (at ${o.where})` : ''}. The agent keeps running and counts it in sonde.agent.uncaught_errors; the plugin may be left half-working: ${fix(o)}`,
    );
  };
  const onException = on('exception');
  const onRejection = on('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

/** What a one-shot command's handlers saw. */
export interface OneShotErrors {
  readonly stray: StrayErrors;
  /** A plugin's stray error was seen: the run fails (status 1) though it went on. */
  readonly failed: boolean;
  /** Stops listening. */
  uninstall(): void;
}

/**
 * `sonde once`, `sonde collect`, `sonde logster`: a stray error is said in one sentence (no raw
 * stack). A plugin's lets the run finish, which then fails; sonde's own ends it at once via `exit`.
 */
export function installOneShotErrorHandlers(command: string, say: (line: string) => void, exit: (code: number) => void = (c) => process.exit(c)): OneShotErrors {
  const stray = new StrayErrors();
  const state = { failed: false };
  const on = (kind: StrayKind) => (reason: unknown) => {
    const err = asError(reason);
    const o = stray.owner(err);
    stray.count(o);
    if (o === undefined) {
      const top = /\n\s+at (.*)/.exec(err.stack ?? '')?.[1];
      say(`${command}: ${kind === 'exception' ? 'uncaught exception' : 'unhandled promise rejection'} in sonde itself: ${err.message}${top ? ` (at ${top})` : ''}; exiting with status 1. Please report it`);
      exit(1);
      return;
    }
    state.failed = true;
    say(`${command}: ${whose(o)} ${what(kind)}: ${err.message}${o.where ? ` (at ${o.where})` : ''}; this run fails (exit status 1). ${fix(o).replace(/^r/, 'R')}`);
  };
  const onException = on('exception');
  const onRejection = on('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    stray,
    get failed() {
      return state.failed;
    },
    uninstall() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

/**
 * Runs a one-shot command (`run` resolves to its exit status) with the handlers above: a plugin's
 * stray error turns a successful status into 1 (a failed run).
 */
export async function runOneShot(command: string, say: (line: string) => void, files: Iterable<PluginFile>, run: () => Promise<number>): Promise<number> {
  const handlers = installOneShotErrorHandlers(command, say);
  handlers.stray.setPluginFiles(files);
  try {
    const code = await run();
    return handlers.failed && code === 0 ? 1 : code;
  } finally {
    handlers.uninstall();
  }
}

/** The plugin files among a registry's sources (plugin -> "built-in" or its file), with the names each defines. */
export function pluginFilesOf(sources: ReadonlyMap<{ readonly name: string }, string>): PluginFile[] {
  const byFile = new Map<string, string[]>();
  for (const [def, source] of sources) {
    if (source === 'built-in') continue;
    let names = byFile.get(source);
    if (names === undefined) byFile.set(source, (names = []));
    names.push(def.name);
  }
  return [...byFile].map(([file, names]) => ({ file, names }));
}
