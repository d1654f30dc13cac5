// The public plugin API: the only module that collectors, parsers and handlers import from the core.
// Built-in plugins use exactly this API; outside authors get the same object as the argument of a
// default-exported factory (see docs/plugins.md), so a plugin file needs no imports.
import { z } from 'zod';
import type { MetricName, Sample, SampleKind } from './model/sample.js';
import { duration, bytes, regex, hostPort } from './schema/units.js';
import { parseHostPort } from './model/host-port.js';
import { formatValue, plaintextLine } from './model/value-format.js';
import { statsdName } from './model/naming.js';
import { pyFloat } from './model/py-number.js';
import { mean, percentile, sortNumbers } from './model/stats.js';
import { closest } from './schema/introspect.js';
import { MemcachedClient, MemcachedError } from './memcached/client.js';
import * as persistQueue from './memcached/persist-queue.js';

export { z };
export type { MetricName, Sample, SampleKind };
export { formatValue, plaintextLine } from './model/value-format.js';
/** A dotted path made safe for StatsD's `name:value|type` lines (`:` and `@` become `_` too), for StatsD handlers. */
export { statsdName } from './model/naming.js';
/** Digits written into a byte buffer without a string: for encoders of samples on the wire. */
export { writeFixedAscii, writeIntAscii } from './model/ascii-digits.js';
export { duration, bytes, regex, hostPort } from './schema/units.js';
export { parseHostPort, type HostPort } from './model/host-port.js';
export { pyFloat } from './model/py-number.js';
export { mean, percentile, sortNumbers } from './model/stats.js';
/**
 * A client for memcached's text protocol, for handlers: commands pipelined on one connection, a
 * deadline on each, no retries behind the caller's back (an `incr` whose reply was lost rejects
 * with `uncertain`). `new MemcachedClient({ host, port, connectTimeout, commandTimeout })`.
 */
export { MemcachedClient, MemcachedError } from './memcached/client.js';
export type { MemcachedClientOptions, MemcachedItem, StoreResult, StoreRequest } from './memcached/client.js';
/** esmond's memcached persist-queue layout: queue names, keys, counter flags, the stable queue choice. */
export * as persistQueue from './memcached/persist-queue.js';
/** Pure parsers of /proc files (`procfs.parseStat(text)`): read with `ctx.proc`, parse, then emit. */
export * as procfs from './procfs/index.js';

/** A plugin's config schema: a zod object whose fields all have defaults or are optional. */
export type ConfigSchema = z.ZodObject;

/** One leveled logging call: `(msg, fields?)`, or pino's order `(fields, msg?)`; an Error as fields becomes `err`. */
export interface PluginLogFn {
  (msg: string, fields?: Record<string, unknown>): void;
  (fields: Record<string, unknown> | Error, msg?: string): void;
}

/**
 * Structured, leveled logging for plugins; fields become JSON keys in the log line. Both
 * `log.info('connected', { host })` and pino's `log.info({ host }, 'connected')` work.
 */
export interface PluginLogger {
  debug: PluginLogFn;
  info: PluginLogFn;
  warn: PluginLogFn;
  error: PluginLogFn;
}

/** Reads files below a root (`/proc`, `/sys`, or a recorded fixture tree in tests). */
export interface FileReader {
  readonly root: string;
  /** Reads `<root>/<relative>` as UTF-8, e.g. `read('stat')`, `read('net/dev')`. */
  read(relative: string): Promise<string>;
  /** The absolute path of `<root>/<relative>`, for calls such as statfs. */
  resolve(relative: string): string;
}

/** What statfs(2) says about a filesystem; sizes are in blocks of `bsize` bytes. */
export interface StatFs {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
}

/** Where a system collector reads: `auto` is /proc where it exists, systeminformation elsewhere. */
export const SOURCES = ['auto', 'proc', 'systeminformation'] as const;
export type Source = (typeof SOURCES)[number];

/** For collectors that read /proc and fall back to systeminformation where there is none (macOS, BSD). */
export interface SystemFallback {
  /**
   * True when this run should read through systeminformation: `source` forces it, or it is `auto`
   * on a host other than Linux whose proc root has no `probe` file (`stat`, `net/dev`).
   */
  use(source: Source, probe: string): Promise<boolean>;
  /** The systeminformation module, imported on the first call: never loaded unless a collector asks. */
  systeminformation(): Promise<typeof import('systeminformation')>;
}

export interface EmitOptions {
  kind?: SampleKind;
  /** Decimal places on the wire, as Diamond's precision (0 = integer). */
  precision?: number;
  /** Overrides the collector's instance for this sample (`mysql.<instance>.…`). */
  instance?: string;
}

/** What a collector's `init`, `collect` and `close` receive. */
export interface CollectorContext<Config, State = undefined> {
  /** The collector's validated section of the config, defaults applied. */
  readonly config: Config;
  /** What `init` returned; undefined when there is no `init`. */
  readonly state: State;
  /**
   * Emits one sample. A string name is split on its dots (`total.user`); an array is taken as
   * literal segments, each sanitised (a dot inside a segment becomes `_`). Default kind: gauge.
   */
  emit(name: string | readonly string[], value: number, opts?: SampleKind | EmitOptions): void;
  /**
   * Emits the per-second rate of a running counter, using the measured time since the last call
   * for the same name. Emits nothing on the first call and when the counter went down (a reset or
   * wrap), and returns what it emitted.
   */
  rate(name: string | readonly string[], counter: number, opts?: EmitOptions): number | undefined;
  /** Like `rate` but emits nothing: the per-second rate for `key`, or undefined. */
  derive(key: string, counter: number): number | undefined;
  /**
   * The growth of a running counter since the last call for `key` and the measured seconds it
   * took; undefined on the first call and after a reset. Kept between `sonde once` runs.
   */
  delta(key: string, counter: number): { delta: number; seconds: number } | undefined;
  /** Monotonic milliseconds at the start of this run: the clock `rate` divides by. */
  readonly now: number;
  /**
   * Publishes a figure about the collector itself (not the system), such as a count of stuck
   * mounts, under `<prefix>.<host>.sonde.collector.<collector>.<name>`.
   */
  health(name: string, value: number): void;
  readonly proc: FileReader;
  readonly sys: FileReader;
  /** statfs(2) of a mount point. Can hang on a dead network mount: bound it with a deadline. */
  statfs(path: string): Promise<StatFs>;
  /**
   * statfs(2) on the agent's own thread, about ten times cheaper than `statfs`. Only for
   * filesystems that answer from memory (ext4, xfs, tmpfs): on a network or FUSE mount it can
   * block the whole agent. Absent when statfs is replayed (tests): use `statfs` then.
   */
  readonly statfsSync?: (path: string) => StatFs;
  /** systeminformation in place of /proc, for hosts without one: `if (await ctx.fallback.use(ctx.config.source, 'stat'))`. */
  readonly fallback: SystemFallback;
  /** Aborted when the run exceeds the collector's timeout or the agent stops. */
  readonly signal: AbortSignal;
  readonly log: PluginLogger;
  /**
   * A directory of this collector's own below the state directory (`<state_dir>/collectors/<key>`),
   * for what must survive a restart, such as log offsets; created by whoever writes first.
   * Undefined when there is none (`sonde collect` previews): keep such state in memory then.
   */
  readonly stateDir: string | undefined;
  /** A parser by name or alias (built-in or a plugin), for collectors that read logs. */
  parser(name: string): ParserDefinition | undefined;
  /** Follows log files into parsers, offsets kept in `stateDir` (in memory without one). */
  readonly logs: LogService;
}

// --- Log reading: the core follows files across rotations and restarts; a plugin only parses and reports.

/** What `ctx.logs.follow` is to follow: one path or glob, read into one parser. */
export interface FollowLogsOptions {
  /**
   * An absolute path, or a glob such as `/var/log/app/*.log`. A glob's rotated and compressed
   * matches (`<f>.1`, `<f>.2.gz`, `<f>-20261122`) are not followed on their own: the live log's
   * rotations are read through it. A path that does not exist yet is read once it appears.
   */
  readonly path: string;
  /** Receives every complete line of every file, through its `needles`/`parseBytes` fast path if it has one. */
  readonly parser: ParserInstance;
  /**
   * Files present at the first `read()` with no saved offset: true reads them from their first line,
   * false from their end (as Logster's first run). Files that appear later are always read whole.
   */
  readonly fromStart: boolean;
  /** Lines longer than this many bytes are counted and skipped, never buffered whole. */
  readonly maxLineBytes: number;
  /** Milliseconds a rotated file is still read after it last grew (a writer that reopens late). */
  readonly rotateWait: number;
  /**
   * Names these files in the collector's log messages and, with a state dir, the folder of their
   * offset files (`<stateDir>/<name>`, a `/` becoming `_`): give each followed set its own.
   */
  readonly name: string;
}

/** Lines handed to a followed set's parser since `follow`. */
export interface FollowedLineCounts {
  /** Lines handed to the parser (lines without any of its needles are not counted). */
  readonly parsed: number;
  /** Lines longer than `maxLineBytes`, skipped. */
  readonly tooLong: number;
  /** Lines on which the parser threw, skipped. */
  readonly failed: number;
  /** The first parser error's message, for the log. */
  readonly firstError: string | undefined;
}

/** The files of one path or glob, followed into one parser. Problems with files are logged, not thrown. */
export interface FollowedLogs {
  /**
   * Picks up files that match now, reads every complete line written since the last read into the
   * parser, and stops following files of a glob that are gone and fully read. Resolves to the bytes read.
   */
  read(): Promise<number>;
  /**
   * Saves the offsets of what was read. Call it only once the figures of those lines were emitted:
   * a restart then neither counts a line twice nor skips one. Does nothing without a state dir.
   */
  commit(): void;
  /**
   * After the first `read()`: milliseconds since the offsets it continued from were saved (the
   * oldest one's), the time those lines were written in; undefined when no file had a saved offset.
   */
  savedAgeMs(): number | undefined;
  /** Running totals since `follow`; take differences for per-interval figures. */
  readonly counts: FollowedLineCounts;
  /** How many files are followed now. */
  readonly fileCount: number;
  /** Closes the files; does not save (call `commit` first if what was read was emitted). */
  close(): void;
}

/** `ctx.logs`: log following for collectors that read logs. */
export interface LogService {
  follow(options: FollowLogsOptions): FollowedLogs;
}

/** The candidate closest to `word` by edit distance when it is close enough to be a likely typo, for "did you mean" hints. */
export { closest };

/** What a collector's `check` gets: config checks beyond its schema, reported with file and line. */
export interface ConfigCheck {
  /** A parser by name or alias (built-in or a plugin). */
  parser(name: string): ParserDefinition | undefined;
  /** Every parser's name and aliases, for "did you mean" and "available" hints. */
  readonly parserNames: readonly string[];
  /**
   * For a name that is not found: `the parser plugin at <file:line> failed to load: <why>` when a
   * plugin file that would define it failed to load, so the message points at that file.
   */
  failedPlugin?(kind: 'collector' | 'handler' | 'parser', name: string): string | undefined;
  /** Reports a problem at `path`, relative to the collector's section. */
  problem(path: readonly (string | number)[], message: string): void;
  /** Validates `value` (found at `path` in the section) against `schema`; problems are reported as the core reports its own. */
  validate<T extends z.ZodType>(schema: T, value: unknown, path: readonly (string | number)[]): z.output<T> | undefined;
}

export interface CollectorDefinition<S extends ConfigSchema = ConfigSchema, State = undefined> {
  readonly kind: 'collector';
  /** Config section name and default metric path, e.g. `cpu`. */
  readonly name: string;
  /** One line for `sonde list` and the README. */
  readonly description: string;
  /** Metric path below the host when it differs from the name (Diamond's collector path). */
  readonly path?: string;
  readonly schema: S;
  /** Checks that need more than the schema (a parser's own options); called when the config is loaded. */
  check?(config: z.output<S>, env: ConfigCheck): void;
  /** Runs once when the collector is started (open connections, read static facts). */
  init?(ctx: CollectorContext<z.output<S>, undefined>): State | Promise<State>;
  /** One collection: read, parse, emit. Must honour `ctx.signal`. */
  collect(ctx: CollectorContext<z.output<S>, State>): void | Promise<void>;
  /** Runs when the collector is stopped or replaced on reload. */
  close?(ctx: CollectorContext<z.output<S>, State>): void | Promise<void>;
}

/** One figure from a parser's report; names are dotted paths below the parser's metric path. */
export interface ParsedMetric {
  readonly name: string;
  readonly value: number;
  readonly kind?: SampleKind;
  /** Logster prints ints and floats differently; true means "print as a float". */
  readonly float?: boolean;
  /** Logster's units text, passed to gmetric and NSCA (`Total Sent`); empty when absent. */
  readonly units?: string;
  /** gmetric's `--type` (Logster's default is `float`). */
  readonly type?: 'float' | 'int';
}

export interface ParserInstance {
  /** Called for each complete line, without its newline (and without a trailing CR). Must not do I/O. */
  parseLine(line: string): void;
  /**
   * Optional fast path: byte strings of which a line must contain at least one to matter. The core
   * skips other lines without decoding them; declare it only when such lines can never count.
   */
  readonly needles?: readonly string[];
  /**
   * Optional fast path: called instead of parseLine with the line's bytes `buf[start, end)`.
   * `lastNeedle` is where the line's last occurrence of the needle begins when the parser names
   * exactly one needle (the core found it already), otherwise -1.
   */
  parseBytes?(buf: Buffer, start: number, end: number, lastNeedle: number): void;
  /** The figures for the lines seen since the parser was created or last reported; resets them. */
  report(durationSeconds: number): ParsedMetric[];
}

/** A Logster-style flag of `--parser-options "-l WARN,ERROR"`, mapped onto a schema key. */
export interface ParserFlag {
  readonly long: string;
  readonly short?: string;
  readonly key: string;
}

export interface ParserDefinition<S extends ConfigSchema = ConfigSchema> {
  readonly kind: 'parser';
  readonly name: string;
  /** Logster-style names that select this parser too, e.g. `PostfixLogster`. */
  readonly aliases: readonly string[];
  readonly description: string;
  readonly schema: S;
  /** Flags accepted in `sonde logster --parser-options`; each sets a key of the schema. */
  readonly flags?: readonly ParserFlag[];
  create(options: z.output<S>): ParserInstance;
}

/** What a handler's `init`, `send` and `close` receive. */
export interface HandlerContext<Config, State = undefined> {
  readonly config: Config;
  readonly state: State;
  /** The dotted Graphite path of a sample's name, with prefix, host and suffix. */
  path(name: MetricName): string;
  /** Aborted when a send exceeds `send_timeout` or the agent stops waiting. */
  readonly signal: AbortSignal;
  readonly log: PluginLogger;
  /**
   * A directory of this handler's own below the state directory (`<state_dir>/handlers/<key>`),
   * for what must survive a restart, such as the last totals a handler sent; created by whoever
   * writes first. Undefined when there is none: keep such state in memory then.
   */
  readonly stateDir?: string;
  /**
   * The host segment of the paths `path` renders (`web01` in `servers.web01.cpu...`), for wire
   * formats that carry the host apart (a tag, a label). Undefined with `hostname_method: none`.
   */
  readonly host?: string;
}

export interface OutboxDefaults {
  batch_size?: number;
  flush_interval?: string;
  /** false for handlers where sending later makes no sense (stdout). */
  spool?: boolean;
}

/**
 * How one handler section becomes several, each with its own outbox and spool (e.g. one per
 * carbon destination). Without `choose` every part gets every sample; with it, each sample goes
 * to the part `choose` names for its dotted path.
 */
export interface HandlerSplit<Config> {
  readonly parts: readonly { readonly label: string; readonly config: Config }[];
  choose?(path: string): number;
}

/**
 * What a handler's `send` throws when the batch holds samples it can never send, whatever the
 * upstream's state: a value or a path its wire format cannot carry. Throw it before writing any
 * of the batch. The core then sends the batch in halves to find the samples that fail, drops
 * those (counted in `sonde.handler.<name>.dropped`, logged with this message) and sends the rest;
 * it never retries them. Any other error means "try again later" and is retried with backoff.
 */
export class RejectedSamplesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedSamplesError';
  }
}

/**
 * What a handler's `send` throws when the upstream took the first `accepted` samples of the batch
 * and then failed (a connection that broke part-way, a store that refused an item). The core keeps
 * only the rest, in order, and sends it again with backoff: the accepted ones are never sent twice.
 * `refused` counts the samples the upstream refused for now (it was full), in
 * `sonde.handler.<name>.refused`; they are kept and written again, never dropped.
 */
export class PartialSendError extends Error {
  constructor(
    readonly accepted: number,
    message: string,
    readonly refused = 0,
  ) {
    super(message);
    this.name = 'PartialSendError';
  }
}

/**
 * What `send` resolves with: nothing when the upstream accepted the whole batch, or how many
 * samples from its head it accepted (the rest is kept, in order, and retried with backoff).
 */
export type SendResult = void | number;

export interface HandlerDefinition<S extends ConfigSchema = ConfigSchema, State = undefined> {
  readonly kind: 'handler';
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  /** Defaults for the core's outbox settings that suit this handler. */
  readonly outbox?: OutboxDefaults;
  init?(ctx: HandlerContext<z.output<S>, undefined>): State | Promise<State>;
  /**
   * For upstreams that acknowledge nothing (carbon's plaintext and pickle): how long before a
   * failed send the core keeps accepted batches, in ms, to send them again (and spool them at
   * shutdown) because the broken connection may have lost them. Omit or return 0 when `send`
   * resolving means the upstream has the data.
   */
  resendWindow?(config: z.output<S>): number;
  /** Splits a section into parts with their own outboxes; undefined keeps it one. */
  expand?(config: z.output<S>): HandlerSplit<z.output<S>> | undefined;
  /**
   * Sends one batch. Resolves only when the upstream has accepted it; throws otherwise. Retry,
   * backoff, ordering and batching are the core's job: do not retry here. A sample that can never
   * be sent (it cannot be encoded): throw a RejectedSamplesError, and the core drops just that sample.
   * An upstream that took part of the batch: resolve with the count it took from the head, or throw
   * a PartialSendError saying why the rest failed; only the rest is sent again.
   */
  send(batch: readonly Sample[], ctx: HandlerContext<z.output<S>, State>): Promise<SendResult>;
  close?(ctx: HandlerContext<z.output<S>, State>): void | Promise<void>;
}

export type PluginDefinition = CollectorDefinition<ConfigSchema, unknown> | ParserDefinition | HandlerDefinition<ConfigSchema, unknown>;

/**
 * What a define function takes as `schema`: the zod object, or a function that builds it. A
 * function is called the first time the schema is needed (the plugin's section is validated, or
 * `sonde list`/`sonde config` describe it), so a run that does not configure the plugin never
 * builds it: a zod schema costs about 15 µs per node to build, and a built-in's is dozens to
 * hundreds of nodes, which a `sonde once` from cron would otherwise pay for every plugin it has.
 */
export type SchemaSource<S extends ConfigSchema> = S | (() => S);

/**
 * The definition with its kind, and `schema` as a property that builds the schema once, on first
 * read, when it was given as a function. The other properties are copied as they are (getters
 * included, not called).
 */
function definition<D extends { readonly schema: ConfigSchema }>(def: object, kind: D extends { readonly kind: infer K } ? K : never, extra: object = {}): D {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(def)) as Record<string, unknown>;
  const source = (def as { schema?: unknown }).schema;
  if (typeof source === 'function') {
    let built: ConfigSchema | undefined;
    Object.defineProperty(out, 'schema', { get: () => (built ??= (source as () => ConfigSchema)()), enumerable: true, configurable: true });
  }
  Object.assign(out, extra);
  Object.defineProperty(out, 'kind', { value: kind, enumerable: true, writable: true, configurable: true });
  return out as unknown as D;
}

export function defineCollector<S extends ConfigSchema, State = undefined>(
  def: Omit<CollectorDefinition<S, State>, 'kind' | 'schema'> & { readonly schema: SchemaSource<S> },
): CollectorDefinition<S, State> {
  return definition<CollectorDefinition<S, State>>(def, 'collector');
}

/** `aliases` may be left out: a parser with no Logster name gets `[]`. */
export function defineParser<S extends ConfigSchema>(
  def: Omit<ParserDefinition<S>, 'kind' | 'aliases' | 'schema'> & { readonly aliases?: readonly string[]; readonly schema: SchemaSource<S> },
): ParserDefinition<S> {
  return definition<ParserDefinition<S>>(def, 'parser', { aliases: def.aliases ?? [] });
}

export function defineHandler<S extends ConfigSchema, State = undefined>(
  def: Omit<HandlerDefinition<S, State>, 'kind' | 'schema'> & { readonly schema: SchemaSource<S> },
): HandlerDefinition<S, State> {
  return definition<HandlerDefinition<S, State>>(def, 'handler');
}

/** The object an outside plugin's default-exported factory receives (`Api` for short, in JSDoc). */
export interface PluginApi {
  readonly z: typeof z;
  /**
   * Schema helpers: `duration()` parses `10s` into ms, `bytes()` parses `64MiB` into bytes. Both take
   * `{ min, max }` (default: 0 to 7d, 0 to 1TiB) and refuse what is outside with the key's line;
   * the range is added to the option's help text.
   */
  readonly duration: typeof duration;
  readonly bytes: typeof bytes;
  readonly regex: typeof regex;
  /** A `host:port` option (`[v6]:port` for IPv6), checked at load; `parseHostPort` splits it. */
  readonly hostPort: typeof hostPort;
  readonly parseHostPort: typeof parseHostPort;
  readonly formatValue: typeof formatValue;
  readonly plaintextLine: typeof plaintextLine;
  readonly statsdName: typeof statsdName;
  /** Python's float(text), for parsers that must accept what Logster accepted. */
  readonly pyFloat: typeof pyFloat;
  readonly mean: typeof mean;
  /** Logster's percentile (linear interpolation at p/100 × (n−1)) of values sorted ascending. */
  readonly percentile: typeof percentile;
  readonly sortNumbers: typeof sortNumbers;
  /** Pure parsers of /proc files, the ones the built-in collectors use. */
  readonly procfs: typeof import('./procfs/index.js');
  /** The values of a system collector's `source` option, for `z.enum(api.SOURCES)`. */
  readonly SOURCES: typeof SOURCES;
  /** "Did you mean" for `check()`: the candidate closest to a misspelt word, if one is close enough. */
  readonly closest: typeof closest;
  readonly defineCollector: typeof defineCollector;
  readonly defineParser: typeof defineParser;
  readonly defineHandler: typeof defineHandler;
  /** For a handler's `send`: `throw new api.RejectedSamplesError(why)` for samples it can never send. */
  readonly RejectedSamplesError: typeof RejectedSamplesError;
  /** For a handler's `send`: `throw new api.PartialSendError(accepted, why)` when the upstream took only the head of the batch. */
  readonly PartialSendError: typeof PartialSendError;
  /** memcached's text protocol, as the built-in memcached_queue handler speaks it (see MemcachedClient). */
  readonly MemcachedClient: typeof MemcachedClient;
  readonly MemcachedError: typeof MemcachedError;
  /** esmond's persist-queue layout (queue names, keys, flags, which queue a device goes to). */
  readonly persistQueue: typeof persistQueue;
  /** The version of sonde loading the plugin. */
  readonly version: string;
}

/** The plugin API, by its short name: `@param {import('sonde/plugin').Api} api` in a JavaScript plugin. */
export type Api = PluginApi;
