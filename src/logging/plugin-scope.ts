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

/** The plugin whose code (or a callback it created) is running now, if any. */
export function currentPluginScope(): PluginScope | undefined {
  return scope.getStore();
}
