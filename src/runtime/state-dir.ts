// The state directory (counter state, offsets, spool): the configured one, or a per-user one when
// that is not writable (a normal user running a source checkout).
import { accessSync, constants, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface StateDir {
  readonly dir: string;
  /** Set when the configured directory could not be used; log it as a notice. */
  readonly notice: string | undefined;
}

function usable(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code ?? e.message;
  }
}

export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'sonde');
}

export function resolveStateDir(configured: string, env: NodeJS.ProcessEnv = process.env): StateDir {
  const why = usable(configured);
  if (why === undefined) return { dir: configured, notice: undefined };
  const fallback = userStateDir(env);
  const why2 = usable(fallback);
  if (why2 !== undefined) {
    throw new Error(`state_dir ${configured} is not writable (${why}) and neither is ${fallback} (${why2}); set state_dir to a directory this user can write`);
  }
  const user = os.userInfo().username;
  return {
    dir: fallback,
    notice: `state_dir ${configured} is not writable by user ${user} (${why}); keeping state in ${fallback} instead. Run as the sonde user or set state_dir to silence this.`,
  };
}
