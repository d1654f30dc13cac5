// mysql: several MySQL/MariaDB instances from one agent, each under its own name
// (servers.<host>.mysql.<instance>.<Variable>), collected in parallel, each with its own deadline
// and its own connection kept open, so that one dead or hung instance delays no other. Levels
// are published as they are, running totals as per-second rates (a restart is a reset, not a
// spike); each instance also reports up and collect_time_ms every interval, whatever happened.
import { closest, defineCollector, type CollectorContext, type EmitOptions } from '../../src/plugin-api.js';
import { failureText, grantText, instanceLabel, isMissingGrant, queryText } from './advice.js';
import { InstanceConnection, LateError, type Rows } from './connection.js';
import { account, replicationStatement } from './flavour.js';
import { innodbFigures } from './innodb.js';
import {
  configuredInstance,
  configuredProblems,
  discoverProblems,
  endpointKey,
  endpointText,
  mergeInstances,
  mysqldMultiInstances,
  processUser,
  sandboxInstances,
  type InstanceSpec,
} from './instances.js';
import { replicationRow } from './replication.js';
import { schema, type Config } from './schema.js';
import { isLevel, statusNumber } from './status.js';

type Mysql2 = typeof import('mysql2');

/** Of the time a run turned out to have, the share each instance may use. */
const RUN_SHARE = 0.8;
/** Row parsers mysql2 keeps: a few statements, each with the columns of a few server versions. */
const PARSER_CACHE = 64;
/** Variables remembered per instance; a server that makes up names cannot grow the agent past it. */
const MAX_VARS = 5000;
/**
 * Seconds Uptime may fall short of the time between two readings before it counts as a restart:
 * it counts whole seconds, and the readings are some milliseconds after the runs' start.
 */
const UPTIME_SLACK_S = 1.5;

/**
 * How one status variable is published, worked out when it is first seen: the same for every
 * instance, so held once for all of them (ten instances have some 5,000 variables between them).
 */
interface VarSlot {
  /** The name as emitted: a dot (no server makes one) would split the path, so it becomes `_`. */
  readonly name: string;
  readonly level: boolean;
  readonly published: boolean;
}

interface Instance {
  readonly spec: InstanceSpec;
  readonly conn: InstanceConnection;
  /** Emit options made once: no object per sample. */
  readonly level: EmitOptions;
  readonly total: EmitOptions;
  readonly timing: EmitOptions;
  /**
   * The variables its status has, each with its derive() key when it is a running total ('' for a
   * level): per instance, so two instances never share a baseline.
   */
  readonly vars: Map<string, string>;
  /**
   * What every derive() and delta() key of the instance starts with, and the keys of its InnoDB
   * and replication figures (by connection, then figure), made once rather than on every run.
   */
  readonly keyPrefix: string;
  readonly uptimeKey: string;
  readonly flushKey: string;
  readonly innodbKeys: Map<string, string>;
  readonly replicationKeys: Map<string, Map<string, string>>;
  /** The connection's count of connects at the last reading: a new one means rates start again. */
  connects: number | undefined;
  /** The message the failure it is in was warned with, or undefined while it answers. */
  failing: string | undefined;
  /** GONE for a server that is not there (see isGone), else the message; undefined while it answers. */
  failingKind: string | undefined;
  /** The account the server knows sonde as, asked once a privilege turns out to be missing. */
  account: string | undefined;
  publishChecked: boolean;
}

interface State {
  readonly mysql: Mysql2;
  readonly configured: InstanceSpec[];
  instances: Instance[];
  discoveredAt: number;
  /** Lines of the last discovery's skipped instances: each is logged when it first appears. */
  skipped: Set<string>;
  /** The run's timeout as seen when a run was abandoned; instances then get a share of it. */
  runLimitMs: number | undefined;
  readonly publish: ReadonlySet<string> | undefined;
  readonly levels: ReadonlySet<string>;
  /** How each status variable seen so far is published (see VarSlot). */
  readonly slots: Map<string, VarSlot>;
}

type Ctx = CollectorContext<Config, State>;

function newInstance(spec: InstanceSpec, mysql: Mysql2): Instance {
  return {
    spec,
    conn: new InstanceConnection(mysql, spec),
    level: { instance: spec.name },
    total: { instance: spec.name, kind: 'rate', precision: 2 },
    timing: { instance: spec.name, precision: 2 },
    vars: new Map(),
    keyPrefix: `${spec.name}\u0000`,
    uptimeKey: `${spec.name}\u0000Uptime`,
    flushKey: `${spec.name}\u0000flush`,
    innodbKeys: new Map(),
    replicationKeys: new Map(),
    connects: undefined,
    failing: undefined,
    failingKind: undefined,
    account: undefined,
    publishChecked: false,
  };
}

function sameSpec(a: InstanceSpec, b: InstanceSpec): boolean {
  return endpointKey(a) === endpointKey(b) && a.user === b.user && a.password === b.password && a.source === b.source;
}

/** Configured and discovered instances now; what was skipped is logged once when it first appears. */
function currentSpecs(ctx: CollectorContext<Config, unknown>, configured: InstanceSpec[], logged: Set<string>): { specs: InstanceSpec[]; skipped: Set<string> } {
  const d = ctx.config.discover;
  const found: InstanceSpec[] = [];
  const skipped: string[] = [];
  if (d.mysqld_multi !== undefined) {
    const r = mysqldMultiInstances(d.mysqld_multi, { user: d.user ?? processUser(), password: d.password });
    found.push(...r.specs);
    skipped.push(...r.skipped);
  }
  if (d.sandboxes !== undefined) {
    const r = sandboxInstances(d.sandboxes);
    found.push(...r.specs);
    skipped.push(...r.skipped);
  }
  const merged = mergeInstances(configured, found);
  skipped.push(...merged.skipped);
  const now = new Set(skipped);
  for (const s of now) if (!logged.has(s)) ctx.log.warn(`mysql discovery: ${s}`);
  return { specs: merged.specs, skipped: now };
}

/** Brings the instance list up to date with discovery: new ones start, gone or changed ones are closed. */
function rediscover(ctx: Ctx, nowMs: number): void {
  const st = ctx.state;
  st.discoveredAt = nowMs;
  const { specs, skipped } = currentSpecs(ctx, st.configured, st.skipped);
  st.skipped = skipped;
  const byName = new Map(st.instances.map((i) => [i.spec.name, i]));
  const next: Instance[] = [];
  for (const spec of specs) {
    const old = byName.get(spec.name);
    if (old !== undefined && sameSpec(old.spec, spec)) {
      next.push(old);
      byName.delete(spec.name);
      continue;
    }
    if (old === undefined) ctx.log.info(`mysql: collecting instance ${spec.name} (${endpointText(spec)}), found in ${spec.source}`);
    else ctx.log.info(`mysql: instance ${spec.name} now at ${endpointText(spec)} (${spec.source}); reconnecting`);
    next.push(newInstance(spec, st.mysql));
  }
  for (const gone of byName.values()) {
    if (!specs.some((s) => s.name === gone.spec.name)) ctx.log.info(`mysql: instance ${gone.spec.name} is no longer in ${gone.spec.source}; it is not collected any more`);
    void gone.conn.close();
  }
  st.instances = next;
  if (next.length === 0) ctx.log.warn('mysql: no instances to collect: none under instances:, and discovery found none; add one (README, "The mysql collector")');
}

function slotOf(st: State, name: string): VarSlot {
  const found = st.slots.get(name);
  if (found !== undefined) return found;
  const slot: VarSlot = {
    name: name.includes('.') ? name.replaceAll('.', '_') : name,
    level: st.levels.has(name) || isLevel(name),
    published: st.publish === undefined || st.publish.has(name),
  };
  if (st.slots.size < MAX_VARS) st.slots.set(name, slot);
  return slot;
}

/** The instance's derive() key of a variable ('' for a level), noting that its status has it. */
function keyOf(inst: Instance, slot: VarSlot, name: string): string {
  const found = inst.vars.get(name);
  if (found !== undefined) return found;
  const key = slot.level ? '' : inst.keyPrefix + name;
  if (inst.vars.size < MAX_VARS) inst.vars.set(name, key);
  return key;
}

/**
 * True when the running totals may have started again from 0 since the last reading, so that no
 * rate may span it: a new connection in this process (the old one was lost: a restart drops every
 * connection, and Uptime's whole seconds cannot tell a restart a second after the last one from
 * none), an Uptime that grew less than the time since the last reading (a restart between two
 * `sonde once` runs), or FLUSH STATUS (Uptime minus Uptime_since_flush_status, a constant in whole
 * seconds until then, changed). The last two readings are kept with the rate baselines.
 */
function countersStartedAgain(ctx: Ctx, inst: Instance, uptime: number | undefined, flushUptime: number | undefined): boolean {
  const connects = inst.conn.connects;
  const reconnected = inst.connects !== undefined && inst.connects !== connects;
  inst.connects = connects;
  let restarted = false;
  if (uptime !== undefined) {
    const grew = ctx.delta(inst.uptimeKey, uptime);
    restarted = grew === undefined || grew.delta + UPTIME_SLACK_S < grew.seconds;
  }
  let flushed = false;
  if (uptime !== undefined && flushUptime !== undefined) {
    const moved = ctx.delta(inst.flushKey, uptime - flushUptime);
    flushed = moved === undefined || moved.delta !== 0;
  }
  return reconnected || restarted || flushed;
}

/** SHOW GLOBAL STATUS: levels as they are, running totals as rates, none across a restart. */
function publishStatus(ctx: Ctx, inst: Instance, status: Rows): void {
  const st = ctx.state;
  const rows = status.rows;
  let uptime: number | undefined;
  let flushUptime: number | undefined;
  // They come last in every server's list: look from the end.
  for (let i = rows.length - 1; i >= 0 && (uptime === undefined || flushUptime === undefined); i--) {
    const n = rows[i]![0];
    if (n === 'Uptime') uptime = statusNumber(rows[i]![1]);
    else if (n === 'Uptime_since_flush_status') flushUptime = statusNumber(rows[i]![1]);
  }
  const reset = countersStartedAgain(ctx, inst, uptime, flushUptime);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const raw = row[0];
    if (typeof raw !== 'string' || raw.length === 0) continue;
    const slot = slotOf(st, raw);
    const key = keyOf(inst, slot, raw);
    if (!slot.published) continue;
    const v = statusNumber(row[1]);
    if (v === undefined) continue;
    if (slot.level) {
      ctx.emit(slot.name, v, inst.level);
    } else {
      // The baseline moves on a reset too, so the next interval has its rate.
      const r = ctx.derive(key, v);
      if (r !== undefined && !reset) ctx.emit(slot.name, r, inst.total);
    }
  }
  if (!inst.publishChecked && st.publish !== undefined) {
    inst.publishChecked = true;
    const have = rows.map((r) => String(r[0]));
    for (const want of st.publish) {
      if (inst.vars.has(want)) continue;
      const hint = closest(want, have);
      ctx.log.warn(
        `${instanceLabel(inst.spec)}: publish names ${want}, which its SHOW GLOBAL STATUS does not have${hint ? `; did you mean ${hint}?` : ''} (names are case-sensitive); nothing is published for it. Fix publish in the mysql collector's section`,
      );
    }
  }
}

/** The derive() key of a replication figure of one connection. */
function replicationKey(inst: Instance, connection: string, figure: string): string {
  let keys = inst.replicationKeys.get(connection);
  const found = keys?.get(figure);
  if (found !== undefined) return found;
  const key = `${inst.keyPrefix}replication\u0000${connection}\u0000${figure}`;
  // Connections are the server's to name: a server that keeps making new ones is not remembered.
  if (keys === undefined && inst.replicationKeys.size < MAX_VARS) inst.replicationKeys.set(connection, (keys = new Map()));
  if (keys !== undefined && keys.size < MAX_VARS) keys.set(figure, key);
  return key;
}

/** Replication figures: the default connection under Diamond's flat names, named ones below replication.<name>. */
function publishReplication(ctx: Ctx, inst: Instance, result: Rows): void {
  for (const row of result.rows) {
    const { connection, figures } = replicationRow(result.columns, row);
    for (const f of figures) {
      // Already published from the status (MariaDB's Slave_received_heartbeats): once is enough.
      if (connection === '' && inst.vars.has(f.name) && slotOf(ctx.state, f.name).published) continue;
      const name = connection === '' ? [f.name] : ['replication', connection, f.name];
      if (f.kind === 'level') {
        ctx.emit(name, f.value, inst.level);
      } else {
        const r = ctx.derive(replicationKey(inst, connection, f.name), f.value);
        if (r !== undefined) ctx.emit(name, r, inst.total);
      }
    }
  }
}

function publishInnodb(ctx: Ctx, inst: Instance, result: Rows, seconds: number): void {
  const col = result.columns.indexOf('Status');
  const report = result.rows[0]?.[col === -1 ? 2 : col];
  if (typeof report !== 'string') return;
  for (const f of innodbFigures(report)) {
    // Innodb_rows_inserted and a few more are status variables too: the status has them already.
    if (inst.vars.has(f.name)) continue;
    if (f.kind === 'level') {
      ctx.emit(f.name, f.value, inst.level);
    } else {
      let key = inst.innodbKeys.get(f.name);
      if (key === undefined) {
        key = `${inst.keyPrefix}innodb\u0000${f.name}`;
        // Diamond's names, a fixed list: bounded, but a bound costs nothing.
        if (inst.innodbKeys.size < MAX_VARS) inst.innodbKeys.set(f.name, key);
      }
      const r = ctx.derive(key, f.value);
      if (r !== undefined) ctx.emit(f.name, r, inst.total);
    }
  }
  ctx.emit('Innodb_status_process_time', seconds, inst.level);
}

interface Polled {
  readonly status: Rows;
  readonly replication: Rows | undefined;
  readonly innodb: Rows | undefined;
  readonly innodbSeconds: number;
}

/** The queries of one instance, each bounded by what is left of its deadline. */
async function poll(ctx: Ctx, inst: Instance, deadlineAt: number): Promise<Polled> {
  const left = () => Math.max(1, deadlineAt - performance.now());
  const status = await inst.conn.query('SHOW GLOBAL STATUS', left());
  const replication = ctx.config.replication ? await optional(ctx, inst, replicationStatement(inst.conn.flavour!), 'replication', left) : undefined;
  let innodb: Rows | undefined;
  let innodbSeconds = 0;
  if (ctx.config.innodb) {
    const t = performance.now();
    innodb = await optional(ctx, inst, 'SHOW ENGINE INNODB STATUS', 'innodb', left);
    innodbSeconds = (performance.now() - t) / 1000;
  }
  return { status, replication, innodb, innodbSeconds };
}

/** A query whose failure costs only its own figures: a missing privilege is said with the GRANT that fixes it. */
async function optional(ctx: Ctx, inst: Instance, sql: string, option: 'replication' | 'innodb', left: () => number): Promise<Rows | undefined> {
  try {
    return await inst.conn.query(sql, left());
  } catch (err) {
    // A lost or silent server fails the whole instance, not just these figures.
    if (!inst.conn.connected || (err as { fatal?: boolean }).fatal) throw err;
    if (isMissingGrant(err)) {
      inst.account ??= await currentAccount(inst, left);
      ctx.log.warn(grantText(inst.spec, inst.conn.flavour, sql, err, inst.account, option));
    } else {
      ctx.log.warn(queryText(inst.spec, sql, err, option));
    }
    return undefined;
  }
}

/** The account as the server knows it (`'sonde'@'localhost'`), for an exact GRANT line. */
async function currentAccount(inst: Instance, left: () => number): Promise<string> {
  const fallback = account(inst.spec.user, inst.spec.socket !== undefined ? 'localhost' : '%');
  try {
    const r = await inst.conn.query('SELECT CURRENT_USER()', left());
    const v = r.rows[0]?.[0];
    const at = typeof v === 'string' ? v.lastIndexOf('@') : -1;
    return at > 0 ? account(String(v).slice(0, at), String(v).slice(at + 1)) : fallback;
  } catch {
    return fallback;
  }
}

/** `p`, or a LateError after `ms`; on that the connection is destroyed, and with it whatever waits on it. */
function within<T>(p: Promise<T>, ms: number, inst: Instance): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new LateError(inst.conn.stage, Math.round(ms));
      inst.conn.drop();
      reject(e);
    }, ms);
  });
  // Given up on: what it ends with later is nobody's business.
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const GONE = 'gone';

/** A failure that says the server is not there: stopped, killed, or on its way down or up. */
function isGone(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown };
  // 1053: "Server shutdown in progress", the answer of a server on its way down.
  return ['ENOENT', 'ECONNREFUSED', 'PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE'].includes(String(e?.code)) || e?.errno === 1053;
}

/** One instance's interval: its figures, or its failure; up and collect_time_ms either way. */
async function collectInstance(ctx: Ctx, inst: Instance, ms: number): Promise<boolean> {
  const start = performance.now();
  let up = false;
  try {
    const r = await within(poll(ctx, inst, start + ms), ms, inst);
    publishStatus(ctx, inst, r.status);
    if (r.replication !== undefined) publishReplication(ctx, inst, r.replication);
    if (r.innodb !== undefined) publishInnodb(ctx, inst, r.innodb, r.innodbSeconds);
    up = true;
    if (inst.failing !== undefined) ctx.log.info(`${instanceLabel(inst.spec)} answers again; its figures are collected`);
    inst.failing = undefined;
    inst.failingKind = undefined;
  } catch (err) {
    const text = failureText(inst.spec, err, inst.conn.flavour);
    const kind = isGone(err) ? GONE : text;
    // The same words every interval: the core logs the first and then one line per window. A
    // server going down says so in turn as a closed connection, a refused one and a missing
    // socket: that is one failure, warned in its first words, and the later words are for
    // debugging. Another kind of failure (a login refused, a hung server) is warned of its own.
    if (inst.failingKind === kind && inst.failing !== text) {
      ctx.log.debug(text);
      ctx.log.warn(inst.failing!);
    } else {
      ctx.log.warn(text);
      inst.failing = text;
    }
    inst.failingKind = kind;
  }
  ctx.emit('up', up ? 1 : 0, inst.level);
  ctx.emit('collect_time_ms', performance.now() - start, inst.timing);
  return up;
}

export default defineCollector({
  name: 'mysql',
  description:
    'MySQL and MariaDB instances, several per host, each under its own name: SHOW GLOBAL STATUS (levels as they are, running totals per second), replication, InnoDB; up and collect_time_ms per instance.',
  schema,
  check(config, env) {
    for (const p of [...configuredProblems(config.instances), ...discoverProblems(config.discover)]) env.problem(p.path, p.message);
  },
  async init(ctx): Promise<State> {
    const mod = (await import('mysql2')) as Mysql2 & { default?: Mysql2 };
    const mysql = mod.default ?? mod;
    // mysql2 keeps compiled row parsers in a cache that sets aside arrays for 15,000 (about 0.5 MB);
    // this collector's few statements need a handful of parsers per server version.
    mysql.setMaxParserCache(PARSER_CACHE);
    const configured: InstanceSpec[] = [];
    for (const [name, cfg] of Object.entries(ctx.config.instances)) {
      const r = configuredInstance(name, cfg);
      // check() refused the config with a problem; a defaults file can go away between the two.
      if (r.spec !== undefined) configured.push(r.spec);
      else for (const p of r.problems) ctx.log.error(`mysql instance ${name}: ${p.message}; it is not collected until the config is reloaded`);
    }
    const { specs, skipped } = currentSpecs(ctx, configured, new Set());
    if (specs.length === 0) ctx.log.warn('mysql: no instances to collect: none under instances:, and discovery found none; add one (README, "The mysql collector")');
    return {
      mysql,
      configured,
      instances: specs.map((s) => newInstance(s, mysql)),
      discoveredAt: performance.now(),
      skipped,
      runLimitMs: undefined,
      publish: ctx.config.publish.length > 0 ? new Set(ctx.config.publish) : undefined,
      levels: new Set(ctx.config.levels),
      slots: new Map(),
    };
  },
  async collect(ctx) {
    const st = ctx.state;
    const start = performance.now();
    const d = ctx.config.discover;
    if ((d.mysqld_multi !== undefined || d.sandboxes !== undefined) && start - st.discoveredAt >= d.interval) rediscover(ctx, start);
    const ms = st.runLimitMs === undefined ? ctx.config.instance_timeout : Math.min(ctx.config.instance_timeout, st.runLimitMs * RUN_SHARE);
    const all = Promise.all(st.instances.map((i) => collectInstance(ctx, i, ms)));
    if (ctx.signal.aborted) return;
    // The run's own timeout came first: return at once (a run still going holds back the next),
    // and from now on give each instance a share of the time runs turn out to have.
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    let outcome: boolean[] | 'aborted';
    try {
      outcome = await Promise.race([all, aborted]);
    } finally {
      // The core reuses a signal that did not abort for the next run: a listener left on it
      // would keep this run (its samples, its context) alive for as long as the agent runs.
      ctx.signal.removeEventListener('abort', onAbort);
    }
    if (outcome === 'aborted') {
      const had = performance.now() - start;
      // The core aborts with "timed out after <ms> ms"; any other reason is the agent stopping.
      const reason = ctx.signal.reason as unknown;
      if (had < ms && reason instanceof Error && reason.message.startsWith('timed out')) {
        st.runLimitMs = had;
        ctx.log.warn(
          `mysql: the collector's run was abandoned at its timeout (about ${Math.round(had)} ms) before every instance had answered within instance_timeout (${ctx.config.instance_timeout} ms); that interval's figures are lost. From now on each instance gets ${Math.round(had * RUN_SHARE)} ms. Set instance_timeout below the collector's timeout and interval to choose it yourself`,
        );
      }
      return;
    }
    const up = outcome.filter(Boolean).length;
    ctx.health('instances', st.instances.length);
    ctx.health('instances_up', up);
  },
  async close(ctx) {
    await Promise.all(ctx.state.instances.map((i) => i.conn.close()));
  },
});
