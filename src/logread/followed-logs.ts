// Follows the files of one path or glob into one parser for a collector (`ctx.logs.follow`): picks
// up files that appear, polls each through its LogFollower into the set's LineFeeder, and keeps
// their offsets in an OffsetStore. The lines themselves go straight from the follower to the feeder.
import path from 'node:path';
import type { FollowedLineCounts, FollowedLogs, FollowLogsOptions, LogService, PluginLogger } from '../plugin-api.js';
import { findLogFiles, isGlob } from './find-files.js';
import { LineFeeder } from './line-feeder.js';
import { LogFollower } from './follower.js';
import { LogFileError } from './open-log.js';
import { StateFileError } from './offset-file.js';
import { OffsetStore } from './offset-store.js';

/** What the collector runner gives the log service of one collector. */
export interface LogServiceEnv {
  /** The collector's state directory; undefined keeps offsets in memory. */
  readonly stateDir: string | undefined;
  readonly log: PluginLogger;
  /** The collector's name, the first word of its log messages (`logs app: …`). */
  readonly label: string;
}

export function logService(env: LogServiceEnv): LogService {
  return { follow: (options) => new FollowedLogSet(options, env) };
}

interface Tracked {
  readonly follower: LogFollower;
  /** With no saved position, read from the first line (a file that appeared after we looked). */
  fromStart: boolean;
  /** Warned that it does not exist (plain paths only), so it is said once. */
  warnedMissing: boolean;
  /** When it was last said that this path cannot be followed (not a regular file, not readable). */
  refusedAt: number | undefined;
}

/** How often a path that cannot be followed is said again while it stays so. */
const REFUSED_REPEAT_MS = 60 * 60_000;

class FollowedLogSet implements FollowedLogs {
  private readonly feeder: LineFeeder;
  private readonly store: OffsetStore;
  private readonly files = new Map<string, Tracked>();
  private readonly glob: boolean;
  private readonly log: PluginLogger;
  /** `<collector> <name>`, the start of every message. */
  private readonly who: string;
  /** Files were looked for once: later ones are new files. */
  private scanned = false;
  /** Globbed files passed over as rotated copies, said once each. */
  private readonly passedOver = new Set<string>();

  constructor(
    private readonly opts: FollowLogsOptions,
    env: LogServiceEnv,
  ) {
    this.feeder = new LineFeeder(opts.parser);
    this.store = new OffsetStore(env.stateDir === undefined ? undefined : path.join(env.stateDir, opts.name.replaceAll('/', '_')));
    this.glob = isGlob(opts.path);
    this.log = env.log;
    this.who = `${env.label} ${opts.name}`;
  }

  get counts(): FollowedLineCounts {
    return this.feeder.counts;
  }

  get fileCount(): number {
    return this.files.size;
  }

  async read(): Promise<number> {
    const first = !this.scanned;
    this.scanned = true;
    const now = this.currentFiles();
    const live = new Set(now);
    for (const f of now) {
      if (this.files.has(f)) continue;
      // Present at the first look: the caller's fromStart. Appeared later: every line is new.
      this.files.set(f, this.track(f, first ? this.opts.fromStart : true));
      if (!first) this.log.info(`${this.who}: following ${f} (new file matching ${this.opts.path})`);
    }
    let bytes = 0;
    for (const [file, t] of [...this.files]) {
      let r;
      try {
        r = await t.follower.poll(this.feeder, t.fromStart, Date.now());
      } catch (err) {
        if (err instanceof LogFileError) {
          // A FIFO, a device or an unreadable file: skipped, the other files still read.
          const at = Date.now();
          if (t.refusedAt === undefined || at - t.refusedAt >= REFUSED_REPEAT_MS) {
            t.refusedAt = at;
            this.log.warn(`${this.who}: ${err.message}; skipped, the other files are still read, and tried again every interval. Check the path ${this.opts.path}; this warning repeats hourly while it lasts`);
          }
          continue;
        }
        this.log.error(`${this.who}: reading ${file} failed: ${(err as Error).message}; tried again next interval`);
        continue;
      }
      t.refusedAt = undefined;
      bytes += r.bytes;
      for (const n of r.notes) this.log.info(`${this.who}: ${n}`);
      for (const w of r.warnings) this.log.warn(`${this.who}: ${w}`);
      const state = t.follower.state();
      if (r.missing && state === undefined) {
        // Not there yet: when it appears, all of it is new.
        t.fromStart = true;
        if (!this.glob && !t.warnedMissing) {
          t.warnedMissing = true;
          this.log.warn(`${this.who}: ${file} does not exist (yet); it is read from its first line when it appears. Check the path if it should be there`);
        }
      } else if (!r.missing) {
        t.warnedMissing = false;
      }
      if (this.glob && r.missing && !live.has(file) && (state === undefined || state.draining.length === 0)) {
        // Gone for good (deleted, or rotated to a name the glob does not match) and fully read.
        t.follower.close();
        this.files.delete(file);
        this.log.info(`${this.who}: ${file} no longer exists; stopped following it`);
        try {
          this.store.forget(file);
        } catch (err) {
          // The figures read so far still count; a stale offset file is only clutter.
          this.log.warn(`${this.who}: cannot remove the offset file of ${file} (${(err as Error).message}); it is harmless, remove it by hand`);
        }
      }
    }
    return bytes;
  }

  commit(): void {
    if (this.store.dir === undefined) return;
    for (const [file, t] of this.files) {
      const s = t.follower.state();
      if (!s) continue;
      try {
        this.store.save(file, s);
      } catch (err) {
        this.log.error(
          `${this.who}: cannot save the offset of ${file} to ${this.store.fileOf(file)}: ${(err as Error).message}. After a restart its lines since the last saved offset are counted again; check that state_dir is writable`,
        );
      }
    }
  }

  savedAgeMs(): number | undefined {
    return this.store.ageMs(this.files.keys());
  }

  close(): void {
    for (const t of this.files.values()) t.follower.close();
  }

  /** The files the path names now; when a glob cannot be listed, the ones already followed. */
  private currentFiles(): string[] {
    let found;
    try {
      found = findLogFiles(this.opts.path);
    } catch (err) {
      this.log.warn(`${this.who}: cannot list ${this.opts.path}: ${(err as Error).message}; files already followed are still read`);
      return [...this.files.keys()];
    }
    for (const f of found.rotated) {
      if (this.passedOver.has(f)) continue;
      this.passedOver.add(f);
      this.log.info(
        `${this.who}: ${f} matches ${this.opts.path} but is a rotated or compressed copy; not followed on its own (its live log's rotations are read through the live log)`,
      );
    }
    return found.files;
  }

  private track(file: string, fromStart: boolean): Tracked {
    let saved;
    try {
      saved = this.store.load(file);
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      this.log.warn(
        `${this.who}: offset file ${this.store.fileOf(file)} is damaged (${err.message}); ${file} is followed from its end, lines written while sonde was stopped are not counted`,
      );
    }
    const follower = new LogFollower(file, saved, { maxLineBytes: this.opts.maxLineBytes, rotateWaitMs: this.opts.rotateWait, keepOpen: true });
    return { follower, fromStart, warnedMissing: false, refusedAt: undefined };
  }
}
