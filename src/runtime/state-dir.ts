// The state directory (counter state, offsets, spool): the configured one, or a per-user one when
// that is not writable (a normal user running a source checkout).
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirs } from '../files/make-dirs.js';

/** Neither the configured state_dir nor the per-user one can be written: a config problem (exit 78). */
export class StateDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateDirError';
  }
}

export interface StateDir {
  readonly dir: string;
  /** Set when the configured directory could not be used; log it as a notice. */
  readonly notice: string | undefined;
}

function usable(dir: string): string | undefined {
  try {
    makeDirs(dir, 0o750);
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    switch (e.code) {
      case 'EACCES':
      case 'EPERM':
        return 'permission denied';
      case 'ENOTDIR':
        return 'a part of the path is a file, not a directory';
      case 'EEXIST':
        return 'it exists but is not a directory';
      case 'EROFS':
        return 'read-only file system';
      case 'ENOENT':
        return 'that file system does not take new directories';
      default:
        return e.code ?? e.message;
    }
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
  const user = os.userInfo().username;
  if (why2 !== undefined) {
    throw new StateDirError(
      `state_dir ${configured} cannot be used by user ${user} (${why}), nor can the per-user ${fallback} (${why2}): counter state, log offsets and the spool have nowhere to go. Make ${configured} a directory ${user} can write, or set state_dir to one`,
    );
  }
  return {
    dir: fallback,
    notice: `state_dir ${configured} is not writable by user ${user} (${why}); keeping state in ${fallback} instead. Run as the sonde user or set state_dir to silence this.`,
  };
}
