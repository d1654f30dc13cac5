// Runs the built bundle (dist/sonde.cjs) as an operator would.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const BUNDLE = path.resolve(import.meta.dirname, '..', '..', 'dist', 'sonde.cjs');

function requireBundle(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run "npm run build" (npm test does it in pretest)`);
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function sonde(args: string[], env: NodeJS.ProcessEnv = {}): Result {
  requireBundle();
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running `sonde run` with its output collected as it comes. */
export class RunningSonde {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    requireBundle();
    this.child = spawn(process.execPath, [BUNDLE, ...args], { env: { ...process.env, ...env } });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits until `check` holds, polling; fails with what was seen after `ms`. */
  async until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout.slice(-2000)}\nstderr:\n${this.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
