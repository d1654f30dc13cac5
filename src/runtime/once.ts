// `sonde once`: every enabled collector once, flush every handler, exit. Counter baselines are kept
// in the state directory so that two runs from cron produce rates. `sonde once --print` collects
// the same way but prints the samples instead of sending them: no handler, outbox or spool is
// opened, and nothing in the state directory is written (the saved baselines are only read).
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { noHandlerHint } from '../config/issue-wording.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { Logger } from '../logging/logger.js';
import { reportLoad } from './load-report.js';
import { Pipeline } from './pipeline.js';
import { plaintextLine } from '../model/value-format.js';
import type { Sample } from '../model/sample.js';
import { bootId, RateTracker } from './rate.js';
import { userStateDir } from './state-dir.js';

export const COUNTER_STATE_FILE = 'counters.json';

/**
 * How long sonde once reuses the FQDN an earlier run resolved (kept beside the counters) for the
 * fqdn hostname methods, while the kernel host name is the same: cron runs it every minute, and
 * DNS for its own name was ~5 ms of each run. A name changed in DNS only is picked up within this.
 */
export const FQDN_REUSE_MS = 10 * 60_000;

interface SavedFqdn {
  readonly kernel: string;
  readonly fqdn: string;
  /** When it was resolved (ms since the epoch). */
  readonly at: number;
}

/** The saved FQDN when it is recent enough to use now. */
function reusableFqdn(saved: unknown, now: number): SavedFqdn | undefined {
  const f = saved as Partial<SavedFqdn> | null | undefined;
  if (typeof f !== 'object' || f === null || typeof f.kernel !== 'string' || typeof f.fqdn !== 'string' || f.fqdn === '' || typeof f.at !== 'number') return undefined;
  // A clock set back makes the age negative: resolve again.
  return f.at <= now && now - f.at < FQDN_REUSE_MS ? (f as SavedFqdn) : undefined;
}

export interface OnceOptions {
  /** Print the samples in this format instead of sending them. */
  readonly print?: 'graphite' | 'json';
  /** Where printed samples go (stdout). */
  readonly out?: (s: string) => void;
}

/** One JSON object per line: the path, the value, the timestamp in seconds (as the Graphite line), the kind. */
export function jsonLine(path: string, s: Sample): string {
  return `{"path":${JSON.stringify(path)},"value":${Number.isFinite(s.value) ? (Object.is(s.value, -0) ? 0 : s.value) : JSON.stringify(String(s.value))},"timestamp":${Math.floor(s.timestamp / 1000)},"kind":"${s.kind}"}\n`;
}

/**
 * The saved counter state --print reads, without creating anything: the state_dir's, else the
 * per-user one a non-root `sonde once` falls back to.
 */
function savedStateFile(stateDir: string): string | undefined {
  const f = path.join(writableOrCreatable(stateDir) ? stateDir : userStateDir(), COUNTER_STATE_FILE);
  return existsSync(f) ? f : undefined;
}

/** Whether `sonde once` would keep its state in `dir` (resolveStateDir's test, without creating anything). */
function writableOrCreatable(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK | constants.X_OK);
        return statSync(d).isDirectory();
      } catch {
        return false;
      }
    }
    if (d === path.dirname(d)) return false;
  }
}

/** Returns the exit status: 0 when every collector ran and every sample was delivered (or printed), else 1. */
export async function runOnce(loaded: LoadedConfig, log: Logger, opts: OnceOptions = {}): Promise<number> {
  reportLoad(loaded, log);
  const cfg = loaded.config;
  const print = opts.print;
  let failed = false;

  const pipeline = new Pipeline(log);
  pipeline.parsers = loaded.registry.parsers;
  const stateFile = print ? savedStateFile(cfg.state_dir) : path.join(pipeline.openStateDir(cfg.state_dir), COUNTER_STATE_FILE);
  const boot = bootId();
  const rates = new RateTracker();
  let saved: { fqdn?: unknown } | undefined;
  if (boot === undefined) {
    log.info('cannot read this boot\'s id (/proc/sys/kernel/random/boot_id); rates are not carried between runs');
  } else if (stateFile === undefined) {
    log.info(`no counter state saved by sonde once in ${cfg.state_dir}: rates (cpu, iostat, network, ...) are left out of what is printed; they appear after one sonde once without --print`);
  } else {
    try {
      saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { fqdn?: unknown } | undefined;
      if (!rates.restore(saved, boot) && print) log.info(`the counter state in ${stateFile} is from before the last boot: rates are left out of what is printed`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') log.warn(`counter state ${stateFile} is unreadable (${e.message}); starting without it: this run emits no rates`);
    }
  }

  // DNS (hostname_method smart/fqdn) is waited for while the collectors run, not before.
  const started = Date.now();
  // Not across a reboot: the network it was resolved on may have changed with it.
  const reused = (saved as { boot?: unknown } | undefined)?.boot === boot ? reusableFqdn(saved?.fqdn, started) : undefined;
  const naming = pipeline.setNaming(cfg, reused);
  const timestamp = Math.floor(Date.now() / 1000) * 1000;
  // A print run keeps log offsets and other collector state in memory: what it reads is sent later.
  const runners = cfg.collectors.filter((c) => c.enabled).map((c) => pipeline.runner(c, cfg, { rates, persistent: print === undefined }));
  const results = await Promise.all(runners.map((r) => r.runWithin(timestamp, r.section.timeout)));
  const resolved = await naming;

  if (print) {
    const out = opts.out ?? ((t: string) => void process.stdout.write(t));
    results.forEach((res, i) => {
      const key = runners[i]!.key;
      if (res === 'timeout') {
        failed = true;
        log.error({ collector: key }, `collector ${key}: did not finish within its timeout of ${runners[i]!.section.timeout} ms; nothing from it is printed`);
        return;
      }
      if (res.error) {
        failed = true;
        log.error({ collector: key, err: res.error }, `collector ${key}: ${res.error.message}`);
      }
      const lines: string[] = [];
      for (const s of res.samples) {
        const p = pipeline.paths.render(s.name);
        if (print === 'json') lines.push(jsonLine(p, s));
        else if (Number.isFinite(s.value)) lines.push(plaintextLine(p, s.value, s.precision, s.timestamp));
        else log.warn({ collector: key }, `collector ${key}: ${p} has the value ${s.value}, which a Graphite line cannot carry; not printed (--format json shows it)`);
      }
      out(lines.join(''));
    });
    await Promise.all(runners.map((r) => r.close().catch(() => undefined)));
    return failed ? 1 : 0;
  }

  // Send loops start at the drain below, after every collector has been routed.
  for (const s of cfg.handlers) if (s.enabled) pipeline.addHandler(s, false);
  if (pipeline.handlers.size === 0) log.warn(noHandlerHint(cfg.files, 'once'));
  results.forEach((res, i) => {
    const key = runners[i]!.key;
    if (res === 'timeout') {
      failed = true;
      log.error({ collector: key }, `collector ${key}: did not finish within its timeout of ${runners[i]!.section.timeout} ms; nothing from it is sent`);
      return;
    }
    if (res.error) {
      failed = true;
      log.error({ collector: key, err: res.error }, `collector ${key}: ${res.error.message}`);
    }
    pipeline.route(res.samples);
  });

  await pipeline.drain(performance.now() + cfg.shutdown_timeout, (hs, lost) => {
    if (lost > 0) {
      failed = true;
      log.error({ handler: hs.section.key, lost }, `handler ${hs.section.key}: ${lost} samples could not be sent within shutdown_timeout (${cfg.shutdown_timeout} ms)`);
    }
    if (hs.outbox.spooled > 0) {
      // Not lost, but not delivered either: cron should see a failed run.
      failed = true;
      log.error({ handler: hs.section.key, spooled: hs.outbox.spooled }, `handler ${hs.section.key}: ${hs.outbox.spooled} samples wait in the disk spool; the next run sends them first`);
    }
  });
  await Promise.all(runners.map((r) => r.close().catch(() => undefined)));

  if (boot !== undefined && stateFile !== undefined) {
    try {
      // The FQDN is kept as resolved: a reused one keeps its first time, so it is resolved again when that is FQDN_REUSE_MS old.
      const fqdn = resolved === undefined ? undefined : { ...resolved, at: reused !== undefined && reused.fqdn === resolved.fqdn && reused.kernel === resolved.kernel ? reused.at : started };
      writeFileAtomic(stateFile, JSON.stringify({ ...rates.toJSON(boot), fqdn }));
    } catch (err) {
      failed = true;
      log.error(`cannot save counter state to ${stateFile}: ${(err as Error).message}; the next run emits no rates`);
    }
  }
  return failed ? 1 : 0;
}
