// A Debian 13 (trixie) root for the package tests: made by mmdebstrap once per machine (the
// tarball is kept in /var/tmp/sonde-deb-test), unpacked fresh for every run, entered with
// systemd-nspawn to install, then booted with systemd-nspawn -b so that the package's unit runs
// under a real systemd with its whole sandbox.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CACHE_DIR = '/var/tmp/sonde-deb-test';
const MIRROR = 'http://deb.debian.org/debian';
// systemd to boot the root, lintian to check the package with Debian 13's own.
const INCLUDE = ['systemd', 'systemd-sysv', 'lintian', 'ca-certificates', 'cron'];
const CLEAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Throws with the command's output when it fails: a failed step must say what went wrong. */
export async function must(cmd: string, args: readonly string[], opts?: { timeoutMs?: number; input?: string; cwd?: string }): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The cached trixie tarball, made by mmdebstrap on first use (about a minute with a fast mirror). */
export async function trixieTarball(log: (s: string) => void): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify({ INCLUDE, MIRROR, v: 1 })).digest('hex').slice(0, 12);
  const tar = path.join(CACHE_DIR, `trixie-${key}.tar`);
  if (existsSync(tar)) {
    log(`using the cached Debian 13 root ${tar}`);
    return tar;
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  log(`making a Debian 13 root with mmdebstrap into ${tar} (once per machine)`);
  const partial = `${tar}.partial`;
  await must('mmdebstrap', ['--quiet', '--format=tar', '--variant=apt', `--include=${INCLUDE.join(',')}`, 'trixie', partial, MIRROR], { timeoutMs: 600_000 });
  renameSync(partial, tar);
  return tar;
}

/** A fresh root unpacked from the tarball, with the build directory visible as /deb. */
export class TrixieRoot {
  private boot: ChildProcess | undefined;
  private initPid = 0;

  constructor(
    readonly dir: string,
    private readonly debDir: string,
  ) {}

  static async unpack(tar: string, dir: string, debDir: string): Promise<TrixieRoot> {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await must('tar', ['-C', dir, '-xf', tar]);
    return new TrixieRoot(dir, debDir);
  }

  /** A command in the root while it is not booted (apt, lintian): systemd-nspawn without -b. */
  exec(script: string, timeoutMs = 300_000): Promise<Run> {
    return run('systemd-nspawn', ['-q', '--register=no', '--keep-unit', '-D', this.dir, `--bind-ro=${this.debDir}:/deb`, '/usr/bin/env', '-i', CLEAN_PATH, 'sh', '-c', script], { timeoutMs });
  }

  /** Boots the root's systemd and waits until it reports running (or degraded). */
  async start(): Promise<void> {
    this.boot = spawn('systemd-nspawn', ['-q', '--register=no', '--keep-unit', '-D', this.dir, `--bind-ro=${this.debDir}:/deb`, '-b'], { stdio: ['ignore', 'ignore', 'ignore'] });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      this.initPid = await this.findInit();
      if (this.initPid > 0) {
        const state = (await run('nsenter', ['-t', String(this.initPid), '-a', '--', 'systemctl', 'is-system-running'])).stdout.trim();
        if (state === 'running' || state === 'degraded') return;
      }
      await sleep(500);
    }
    throw new Error('the Debian 13 root did not boot within 60 s under systemd-nspawn -b');
  }

  /** The root's systemd: the descendant of our systemd-nspawn named systemd whose pid inside its namespace is 1. */
  private async findInit(): Promise<number> {
    const todo = [this.boot?.pid ?? 0];
    while (todo.length > 0) {
      const pid = todo.shift()!;
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        if (/^Name:\s+systemd$/m.test(status) && /^NSpid:\s+\d+\s+1$/m.test(status)) return pid;
        for (const task of readdirSync(`/proc/${pid}/task`)) {
          todo.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
        }
      } catch {
        // gone meanwhile
      }
    }
    return 0;
  }

  /** A command inside the booted root (all of its namespaces), as root, with a clean environment. */
  sh(script: string, timeoutMs = 300_000): Promise<Run> {
    if (this.initPid === 0) throw new Error('the root is not booted');
    return run('nsenter', ['-t', String(this.initPid), '-a', '--', '/usr/bin/env', '-i', CLEAN_PATH, 'sh', '-c', script], { timeoutMs });
  }

  async mustSh(script: string, timeoutMs?: number): Promise<string> {
    const r = await this.sh(script, timeoutMs);
    if (r.code !== 0) throw new Error(`in the Debian 13 root: ${script}\nexited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  async stop(): Promise<void> {
    const boot = this.boot;
    if (!boot || boot.exitCode !== null) return;
    const exited = new Promise((r) => boot.once('exit', r));
    boot.kill('SIGTERM'); // nspawn asks the root's systemd to power off
    await Promise.race([exited, sleep(30_000)]);
    if (boot.exitCode === null) boot.kill('SIGKILL');
  }
}
