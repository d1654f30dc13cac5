// dashboards/sonde-host.json, the Grafana dashboard shipped with sonde: every Graphite target in
// it must match names that sonde's golden cases emit, so the dashboard cannot drift from the
// plugins (a renamed metric leaves a panel empty; this test says which).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SelfMetrics } from '../src/runtime/self-metrics.js';
import { PathRenderer } from '../src/model/naming.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIX = path.join(import.meta.dirname, 'fixtures');
const DASHBOARD = path.join(ROOT, 'dashboards', 'sonde-host.json');

const dirs = (d: string): string[] => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
const lines = (f: string): string[] => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

/**
 * Every metric name (below <prefix>.<host>.) that sonde's golden cases and tests expect it to
 * emit. The one place that knows where the golden cases live: point it at their new layout when
 * they move. Instance names of the mysql collector are written INSTANCE.
 */
function emittedNames(): Set<string> {
  const names = new Set<string>();
  // Collectors: test/fixtures/collectors/<collector>/<case>/sample<N>.expected, `name value` lines.
  const collectors = path.join(FIX, 'collectors');
  for (const c of dirs(collectors)) {
    for (const k of dirs(path.join(collectors, c))) {
      for (const f of readdirSync(path.join(collectors, c, k)).filter((x) => x.endsWith('.expected'))) {
        for (const l of lines(path.join(collectors, c, k, f))) names.add(l.split(' ')[0]!);
      }
    }
  }
  // Log parsers: test/fixtures/parsers/<parser>/<case>/expected-<s>.txt, below the name the logs
  // collector gives the file (the shipped config's example names the postfix log `postfix`).
  const logs = path.join(FIX, 'parsers');
  for (const p of dirs(logs)) {
    for (const k of dirs(path.join(logs, p))) {
      for (const f of readdirSync(path.join(logs, p, k)).filter((x) => /^expected-\d+\.txt$/.test(x))) {
        for (const l of lines(path.join(logs, p, k, f))) names.add(`${p}.${l.split(' ')[0]}`);
      }
    }
  }
  // Self-metrics: what the agent's SelfMetrics emits for one collector and one handler.
  const stats = { runs: 1, timeouts: 0, errors: 0, skipped: 0, lastDurationMs: 1 };
  const outbox = { sent: 1, sendErrors: 0, dropped: 0, rejected: 0, resent: 0 } as unknown as Parameters<SelfMetrics['collect']>[2][number]['stats'];
  const render = new PathRenderer({ prefix: '', host: undefined, suffix: '' });
  for (const s of new SelfMetrics().collect(0, [{ key: 'cpu', stats, lastSamples: 1, invalidValues: 0, namesRefused: 0, uncaughtErrors: 0 }], [{ key: 'graphite', depth: 0, spooled: 0, stats: outbox }])) {
    names.add(render.render(s.name));
  }
  // MySQL: the status variables of the recorded SHOW GLOBAL STATUS that are numbers (or ON/OFF),
  // the InnoDB report's names and the per-instance names its tests expect.
  for (const l of lines(path.join(FIX, 'mysql', 'global-status-mariadb-10.11.tsv'))) {
    const [name, value] = l.split('\t') as [string, string];
    if (/^-?\d+(\.\d+)?$|^(ON|OFF|YES|NO)$/i.test(value)) names.add(`mysql.INSTANCE.${name}`);
  }
  for (const t of readdirSync(import.meta.dirname).filter((f) => /^mysql-.*\.test\.ts$/.test(f))) {
    const src = readFileSync(path.join(import.meta.dirname, t), 'utf8');
    for (const m of src.matchAll(/^\s+(Innodb_\w+): \[/gm)) names.add(`mysql.INSTANCE.${m[1]}`);
    for (const m of src.matchAll(/'(?:servers\.h\.)?mysql\.(?:m\d|hung|\$\{inst\})\.(\w+)'/g)) names.add(`mysql.INSTANCE.${m[1]}`);
    for (const m of src.matchAll(/`servers\.h\.mysql\.\$\{inst\}\.(\w+)`/g)) names.add(`mysql.INSTANCE.${m[1]}`);
  }
  return names;
}

/** The metric path patterns in a Graphite target (the arguments that are paths, not functions or numbers). */
function pathsIn(target: string): string[] {
  const t = target.replaceAll('$prefix', 'servers').replaceAll('$host', 'HOST');
  const out: string[] = [];
  let i = t.indexOf('servers.HOST.');
  while (i >= 0) {
    let j = i;
    let depth = 0;
    for (; j < t.length; j++) {
      const ch = t[j]!;
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
      else if (depth === 0 && (ch === ',' || ch === ')' || ch === '(' || ch === ' ' || ch === "'")) break;
    }
    out.push(t.slice(i, j));
    i = t.indexOf('servers.HOST.', j);
  }
  return out;
}

/** `a.{b,c}.d` -> [`a.b.d`, `a.c.d`]: each alternative must match on its own. */
function expand(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expand(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

/** Graphite's glob (`*`, `[...]`, within one segment) as a regular expression over a whole path. */
function globToRegex(p: string): RegExp {
  let re = '';
  for (const ch of p) re += ch === '*' ? '[^.]*' : ch === '[' || ch === ']' ? ch : ch.replace(/[.+?^$()|\\]/g, '\\$&');
  return new RegExp(`^${re}$`);
}

function unmatched(targets: readonly string[], names: ReadonlySet<string>): string[] {
  const full = [...names].map((n) => `servers.HOST.${n}`);
  const bad: string[] = [];
  for (const t of targets) {
    const paths = pathsIn(t);
    if (paths.length === 0) bad.push(`${t} (no metric path in it)`);
    for (const p of paths.flatMap(expand)) {
      const re = globToRegex(p);
      if (!full.some((n) => re.test(n))) bad.push(`${p} (in ${t})`);
    }
  }
  return bad;
}

interface Panel {
  type: string;
  title: string;
  targets?: { target: string; datasource?: { type: string } }[];
}

describe('dashboards/sonde-host.json', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { name: string; type: string; query: string; datasource?: { uid: string } }[] } };
  const graphs = dash.panels.filter((p) => p.type !== 'row');
  const targets = graphs.flatMap((p) => (p.targets ?? []).map((t) => t.target));
  const names = emittedNames();

  it('has a Graphite data source variable and a $host variable listing the hosts under $prefix', () => {
    const v = new Map(dash.templating.list.map((x) => [x.name, x]));
    expect(v.get('datasource')).toMatchObject({ type: 'datasource', query: 'graphite' });
    expect(v.get('host')).toMatchObject({ type: 'query', query: '$prefix.*', datasource: { uid: '${datasource}' } });
    expect(v.get('prefix')).toMatchObject({ type: 'textbox', query: 'servers' });
    for (const p of graphs) for (const t of p.targets ?? []) expect(t.datasource?.type, p.title).toBe('graphite');
  });

  it('every target matches names that sonde emits (each {a,b} alternative on its own)', () => {
    expect(names.size).toBeGreaterThan(500);
    expect(targets.length).toBeGreaterThan(20);
    expect(unmatched(targets, names)).toEqual([]);
  });

  it('the check fails for a target that matches nothing', () => {
    expect(unmatched(['aliasByNode($prefix.$host.cpu.total.{user,usr}, 4)', 'servers.web01.cpu.total.user', 'sumSeries($prefix.$host.mysql.*.Questionz)'], names)).toEqual([
      'servers.HOST.cpu.total.usr (in aliasByNode($prefix.$host.cpu.total.{user,usr}, 4))',
      'servers.web01.cpu.total.user (no metric path in it)',
      'servers.HOST.mysql.*.Questionz (in sumSeries($prefix.$host.mysql.*.Questionz))',
    ]);
  });

  it('has panels for each part: CPU, memory, load, disk space, disk I/O, network, sockets, MySQL, Postfix and sonde\'s health', () => {
    const uses = (re: RegExp) => targets.some((t) => pathsIn(t).flatMap(expand).some((p) => re.test(p)));
    for (const re of [/\.cpu\.total\./, /\.memory\./, /\.loadavg\./, /\.diskspace\./, /\.iostat\./, /\.network\./, /\.sockets\./, /\.mysql\./, /\.postfix\./, /\.sonde\.handler\.\*\.queue_depth$/, /\.sonde\.handler\.\*\.dropped$/, /\.sonde\.handler\.\*\.spooled$/]) {
      expect(uses(re), String(re)).toBe(true);
    }
  });
});
