// The mysql collector's config (errors with file:line, defaults files, passwords from files) and
// its instances found on the host (mysqld_multi groups, sandbox directories), against two real
// MariaDB servers; and the deadline of a run whose timeout is shorter than instance_timeout.
import { getEventListeners } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/read-files.js';
import { loadConfig } from '../src/config/load-config.js';
import type { CollectorRunner } from '../src/runtime/collector-runner.js';
import { fileReader } from '../src/runtime/file-reader.js';
import { relativePath } from '../src/model/naming.js';
import { builtinRunner } from './helpers/collector.js';
import { recordingLog } from './helpers/plugin-log.js';
import { SONDE_PASSWORD, silentListener, startMariaDBs, type MariaDBs } from './helpers/mariadb.js';
import { freePort } from './helpers/carbon.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

/** The error lines of loading `yaml` as sonde.yaml (none when it loads). */
async function configErrors(yaml: string): Promise<{ lines: string[]; file: string }> {
  const dir = tmpdir();
  const file = writeFiles(dir, { 'sonde.yaml': `plugin_paths: []\n${yaml}` })['sonde.yaml']!;
  try {
    await loadConfig(file, {});
  } catch (err) {
    if (err instanceof ConfigError) return { lines: err.message.split('\n'), file };
    throw err;
  }
  return { lines: [], file };
}

describe('config errors name the file and the line', () => {
  it('an instance without a way to reach it, a defaults file that cannot be read, two instances on one socket, a name that is no path segment', async () => {
    const dir = tmpdir();
    const badPort = writeFiles(dir, { 'bad.cnf': '[client]\nsocket = /run/m9.sock\nport = 33o6\n' })['bad.cnf']!;
    const { lines, file } = await configErrors(
      [
        'collectors:',
        '  mysql:',
        '    instances:',
        '      m1: { user: sonde }',
        `      m2: { defaults_file: ${dir}/missing.cnf }`,
        '      a: { socket: /run/mysqld/same.sock }',
        '      b:',
        '        socket: /run/mysqld/../mysqld/same.sock',
        '      both: { socket: /run/x.sock, host: db1 }',
        '      m.3: { port: 3310 }',
        `      m9: { defaults_file: ${badPort} }`,
        '    discover:',
        `      mysqld_multi: ${dir}/my.cnf`,
        `      sandboxes: ${badPort}`,
        '',
      ].join('\n'),
    );
    expect(lines).toEqual([
      `${file}:5: collectors.mysql.instances.m1: says neither socket nor host nor port, so sonde cannot tell which server it is; add socket: /path/to/mysqld.sock or host: and port:`,
      `${file}:6: collectors.mysql.instances.m2.defaults_file: cannot read ${dir}/missing.cnf: no such file`,
      `${file}:9: collectors.mysql.instances.b.socket: instances a and b both reach socket /run/mysqld/../mysqld/same.sock: one server would be collected twice, under two names. Remove one, or point it at its own instance`,
      `${file}:10: collectors.mysql.instances.both.host: set socket or host, not both: socket /run/x.sock is a local connection, host db1 a TCP one`,
      `${file}:11: collectors.mysql.instances.m.3: the name "m.3" becomes a metric path segment (servers.<host>.mysql.<name>); use only letters, digits, _ and -, e.g. "m_3"`,
      `${file}:12: collectors.mysql.instances.m9.defaults_file: ${badPort}: [client] port="33o6" is not a port number (1-65535)`,
      `${file}:14: collectors.mysql.discover.mysqld_multi: cannot read ${dir}/my.cnf: no such file`,
      `${file}:15: collectors.mysql.discover.sandboxes: ${badPort} is not a directory; name the directory that holds one directory per sandbox`,
    ]);
  });

  it('unknown keys and wrong types inside an instance, as for any section', async () => {
    const { lines, file } = await configErrors('collectors:\n  mysql:\n    instances:\n      m1:\n        sockett: /run/m1.sock\n        port: "3306"\n');
    expect(lines.sort()).toEqual([
      `${file}:6: collectors.mysql.instances.m1.sockett: unknown key; did you mean "socket"?`,
      `${file}:7: collectors.mysql.instances.m1.port: expected a number, got "3306"`,
    ]);
  });

  it('takes the password from password_file, and the login from a defaults file, keys written in sonde.yaml winning', async () => {
    const dir = tmpdir();
    const f = writeFiles(dir, {
      'm1.pass': 'from-the-file\n',
      'm2.cnf': '[client]\nuser = cnfuser\npassword = "cnf pass"\nsocket = /run/m2.sock\nport = 3399\n[mysql]\nuser = not-this-group\n',
    });
    const yaml = `collectors:\n  mysql:\n    instances:\n      m1: { host: db1, password_file: ${f['m1.pass']} }\n      m2: { defaults_file: ${f['m2.cnf']}, user: override }\n      m3: { port: 3307 }\n`;
    const cfgFile = writeFiles(dir, { 'sonde.yaml': `plugin_paths: []\n${yaml}` })['sonde.yaml']!;
    const loaded = await loadConfig(cfgFile, {});
    const section = loaded.config.collectors.find((c) => c.key === 'mysql')!;
    const instances = (section.config as { instances: Record<string, Record<string, unknown>> }).instances;
    expect(instances.m1).toEqual({ host: 'db1', password: 'from-the-file' });
    const { configuredInstance } = await import('../collectors/mysql/instances.js');
    expect(configuredInstance('m1', instances.m1!).spec).toMatchObject({ host: 'db1', port: 3306, socket: undefined, password: 'from-the-file' });
    expect(configuredInstance('m2', instances.m2!).spec).toMatchObject({ socket: '/run/m2.sock', host: undefined, user: 'override', password: 'cnf pass' });
    // A port alone is 127.0.0.1, as an operator means it (the mysql client would take the socket).
    expect(configuredInstance('m3', instances.m3!).spec).toMatchObject({ host: '127.0.0.1', port: 3307, socket: undefined });
  });
});

let dbs: MariaDBs;
const runners: CollectorRunner[] = [];
beforeAll(async () => {
  dbs = await startMariaDBs(['d0', 'd1']);
});
afterAll(async () => {
  for (const r of runners) await r.close();
  await dbs?.stop();
});

function mysqlRunner(options: Record<string, unknown>): { r: CollectorRunner; said: string[] } {
  const { log, said } = recordingLog();
  const r = builtinRunner('mysql', options, { proc: fileReader('/proc'), sys: fileReader('/sys'), log });
  runners.push(r);
  return { r, said };
}

async function ups(r: CollectorRunner): Promise<Record<string, number>> {
  const res = await r.run(Date.now(), new AbortController().signal);
  expect(res.error).toBeUndefined();
  return Object.fromEntries(res.samples.filter((s) => s.name.segments[0] === 'up').map((s) => [relativePath(s.name), s.value]));
}

describe('instances found on the host', () => {
  it('collects each [mysqldN] group of a mysqld_multi file and each sandbox directory, under their names, once per server', async () => {
    const d0 = dbs.get('d0');
    const d1 = dbs.get('d1');
    const dir = tmpdir();
    const f = writeFiles(dir, {
      'discover.pass': `${SONDE_PASSWORD}\n`,
      'my.cnf': [
        '[mysqld_multi]',
        'mysqld = /usr/bin/mysqld_safe',
        'user = multi_admin',
        '[mysqld1]',
        `socket = ${d0.socket}`,
        'port = 3306',
        '[mysqld2]',
        `port = ${d1.port}`,
        '[mysqld3]',
        'datadir = /var/lib/mysql3',
        `!include ${dir}/more.cnf`,
        '',
      ].join('\n'),
      'more.cnf': `[mysqld4]\nsocket = ${dir}/nobody-home.sock\n`,
      'sandboxes/s1/my.sandbox.cnf': `[mysql]\nprompt = 's1> '\n[client]\nuser = sonde\npassword = ${SONDE_PASSWORD}\nport = ${d1.port}\nsocket = ${d1.socket}\nhost = localhost\n`,
      'sandboxes/s.2/my.sandbox.cnf': `[client]\nuser = sonde\npassword = ${SONDE_PASSWORD}\nhost = 127.0.0.1\nport = ${d0.port}\n`,
      'sandboxes/tarballs/README': 'not a sandbox\n',
      'sandboxes/broken/my.sandbox.cnf': '[client]\nuser = x\n',
    });
    const { r, said } = mysqlRunner({
      // d0's socket is configured by hand: [mysqld1], the same server, is not collected a second time.
      instances: { mine: { socket: d0.socket } },
      discover: { mysqld_multi: f['my.cnf'], sandboxes: path.join(dir, 'sandboxes'), user: 'sonde', password: SONDE_PASSWORD },
    });
    expect(await ups(r)).toEqual({
      'mysql.mine.up': 1,
      'mysql.mysqld2.up': 1,
      'mysql.mysqld4.up': 0,
      'mysql.s1.up': 1,
      'mysql.s_2.up': 1,
    });
    expect(said).toContain(`warn mysql discovery: [mysqld3] of ${f['my.cnf']} has no socket or port; add socket= to collect it`);
    expect(said).toContain(`warn mysql discovery: ${path.join(dir, 'sandboxes', 'broken', 'my.sandbox.cnf')} has no socket or port in [client]; it is not collected`);
    expect(said.filter((l) => l.includes('mysqld1'))).toEqual([]);
    expect(said.filter((l) => l.includes('tarballs'))).toEqual([]);
    expect(said.find((l) => l.includes('mysql instance mysqld4'))).toContain(`mysql instance mysqld4 (socket ${dir}/nobody-home.sock, [mysqld4] of ${f['my.cnf']}): the socket ${dir}/nobody-home.sock does not exist`);
  });

  it('reads the sources again at discover.interval: a new sandbox is collected, a removed one dropped', async () => {
    const d1 = dbs.get('d1');
    const dir = tmpdir();
    const sandbox = (name: string) => writeFiles(dir, { [`${name}/my.sandbox.cnf`]: `[client]\nuser = sonde\npassword = ${SONDE_PASSWORD}\nsocket = ${d1.socket}\n` });
    sandbox('first');
    const { r, said } = mysqlRunner({ discover: { sandboxes: dir, interval: '100ms' } });
    expect(await ups(r)).toEqual({ 'mysql.first.up': 1 });
    rmSync(path.join(dir, 'first'), { recursive: true });
    writeFiles(dir, { [`second/my.sandbox.cnf`]: `[client]\nuser = sonde\npassword = ${SONDE_PASSWORD}\nport = ${d1.port}\nhost = 127.0.0.1\n` });
    await new Promise((res) => setTimeout(res, 150));
    expect(await ups(r)).toEqual({ 'mysql.second.up': 1 });
    expect(said).toContain(`info mysql: collecting instance second (127.0.0.1:${d1.port}), found in sandbox ${path.join(dir, 'second')}`);
    expect(said).toContain(`info mysql: instance first is no longer in sandbox ${path.join(dir, 'first')}; it is not collected any more`);
  });

  it('says there is nothing to collect when nothing is configured or found', async () => {
    const dir = tmpdir();
    mkdirSync(path.join(dir, 'empty'));
    const { r, said } = mysqlRunner({ discover: { sandboxes: path.join(dir, 'empty') } });
    expect(await ups(r)).toEqual({});
    expect(said).toEqual(['warn mysql: no instances to collect: none under instances:, and discovery found none; add one (README, "The mysql collector")']);
  });
});

describe('deadlines', () => {
  it('a unix socket that accepts and never answers: up 0 within instance_timeout, the other instance unharmed', async () => {
    const dir = tmpdir();
    const sock = path.join(dir, 'silent.sock');
    const silent = await silentListener({ socket: sock });
    try {
      const { r, said } = mysqlRunner({ instances: { quiet: { socket: sock }, d0: { socket: dbs.get('d0').socket } }, instance_timeout: '300ms' });
      const t = performance.now();
      expect(await ups(r)).toEqual({ 'mysql.quiet.up': 0, 'mysql.d0.up': 1 });
      const took = performance.now() - t;
      expect(took).toBeGreaterThanOrEqual(295);
      expect(took).toBeLessThan(600);
      expect(said).toEqual([
        `warn mysql instance quiet (socket ${sock}, instances.quiet): no answer to the connect and login within 300 ms: the server accepts connections but does not answer (hung, overloaded, or waiting on a lock); it reports up 0, and none of its other figures, until it answers. Look at the server (its error log, SHOW PROCESSLIST from a console); if it is only slow, raise instance_timeout (keep it below the collector's interval)`,
      ]);
      expect(silent.accepted()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it("a run timeout shorter than instance_timeout: that run is lost once, then every instance gets a share of the run's time", async () => {
    const port = await freePort();
    const silent = await silentListener({ port });
    try {
      const { r, said } = mysqlRunner({ instances: { quiet: { host: '127.0.0.1', port, user: 'sonde', password: 'x' }, d0: { socket: dbs.get('d0').socket } }, instance_timeout: '5s' });
      expect(await r.runWithin(Date.now(), 400)).toBe('timeout');
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(
        /^warn mysql: the collector's run was abandoned at its timeout \(about 40\d ms\) before every instance had answered within instance_timeout \(5000 ms\); that interval's figures are lost\. From now on each instance gets 32\d ms\. Set instance_timeout below the collector's timeout and interval to choose it yourself$/,
      );
      const t = performance.now();
      const next = await r.runWithin(Date.now(), 400);
      expect(performance.now() - t).toBeLessThan(400);
      expect(next).not.toBe('timeout');
      const got = next === 'timeout' ? {} : Object.fromEntries(next.samples.filter((s) => s.name.segments[0] === 'up').map((s) => [relativePath(s.name), s.value]));
      expect(got).toEqual({ 'mysql.quiet.up': 0, 'mysql.d0.up': 1 });
      expect(said[1]).toMatch(/no answer to the connect and login within 32\d ms/);
    } finally {
      await silent.close();
    }
  });

  it('leaves no listener on the run\'s signal, which the scheduler reuses for the next run while it has not aborted', async () => {
    const { r } = mysqlRunner({ instances: { d0: { socket: dbs.get('d0').socket } } });
    const reused = new AbortController();
    for (let i = 0; i < 5; i++) await r.run(Date.now(), reused.signal);
    // One left per run would keep every run's samples alive for as long as the agent runs.
    expect(getEventListeners(reused.signal, 'abort')).toHaveLength(0);
  });
});

describe('passwords', () => {
  it('are never in a message, whatever fails', async () => {
    const dir = tmpdir();
    const secret = 'Sekr1t-do-not-log';
    const cnf = path.join(dir, 'm.cnf');
    writeFileSync(cnf, `[client]\nuser = sonde\npassword = ${secret}\nhost = 127.0.0.1\nport = ${dbs.get('d1').port}\n`);
    const { r, said } = mysqlRunner({ instances: { a: { defaults_file: cnf }, b: { socket: dbs.get('d0').socket, user: 'sonde', password: secret } } });
    expect(await ups(r)).toEqual({ 'mysql.a.up': 0, 'mysql.b.up': 0 });
    expect(said).toHaveLength(2);
    for (const l of said) {
      expect(l).toContain('refused the login');
      expect(l).not.toContain(secret);
    }
  });
});
