// Which plugin a stray error belongs to. Plugin code runs inside `inPluginScope`, and node's
// AsyncLocalStorage hands the scope on to every timer, event handler and promise it creates, so an
// exception thrown from one of them later (outside collect) can still be put down to its plugin.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface PluginScope {
  /** The plugin's name (`ticker`). */
  readonly plugin: string;
  /** The collector section running it, when a collector runs it. */
  readonly collector?: string;
}

const scope = new AsyncLocalStorage<PluginScope>();

/** Runs `fn` (a plugin's init, collect, close, send) as `owner`'s code. */
export function inPluginScope<T>(owner: PluginScope, fn: () => T): T {
  return scope.run(owner, fn);
}

/** Definitions that came from plugin files (plugin_paths, `sonde collect ./x.mjs`). */
const fromFiles = new WeakSet<object>();

export function markFromFile(def: object): void {
  fromFiles.add(def);
}

/**
 * Runs `fn` as `owner`'s code when `def` came from a plugin file, and plainly otherwise: the
 * built-in plugins are sonde's own code (their stray errors are sonde's), and a scope is not
 * free: once one is used, node 20 hooks every promise of the process (measured: ~7% of a
 * collection cycle of the built-in collectors).
 */
export function inScopeOf<T>(def: object, owner: PluginScope, fn: () => T): T {
  return fromFiles.has(def) ? scope.run(owner, fn) : fn();
}

/** The plugin whose code (or a callback it created) is running now, if any. */
export function currentPluginScope(): PluginScope | undefined {
  return scope.getStore();
}
