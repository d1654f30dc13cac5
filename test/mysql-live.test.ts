// The mysql collector against real MariaDB servers (Debian's mariadb-server, three instances
// started for this file): names and kinds, rates against the servers' own counters, restarts,
// replication (one connection and multi-source), logins that fail, privileges that are missing,
// and levels compared with what Debian's prometheus-mysqld-exporter reads in the same second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectorRunner } from '../src/runtime/collector-runner.js';
import { fileReader } from '../src/runtime/file-reader.js';
import { relativePath } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { builtinRunner } from './helpers/collector.js';
import { recordingLog } from './helpers/plugin-log.js';
import { BARE_PASSWORD, SONDE_PASSWORD, replicate, startExporter, startMariaDBs, until, type MariaDBs } from './helpers/mariadb.js';

let dbs: MariaDBs;

beforeAll(async () => {
  dbs = await startMariaDBs(['m0', 'm1', 'm2']);
  // m1 replicates m0 on its default connection.
  await replicate(dbs.get('m1'), dbs.get('m0'));
});

afterAll(async () => {
  await dbs?.stop();
});

const runners: CollectorRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.close();
});

function mysqlRunner(options: Record<string, unknown>): { r: CollectorRunner; said: string[] } {
  const { log, said } = recordingLog();
  const r = builtinRunner('mysql', options, { proc: fileReader('/proc'), sys: fileReader('/sys'), log });
  runners.push(r);
  return { r, said };
}

interface Run {
  readonly samples: Map<string, Sample>;
  /** performance.now() before and after the run. */
  readonly start: number;
  readonly end: number;
}

async function run(r: CollectorRunner): Promise<Run> {
  const start = performance.now();
  const res = await r.run(Date.now(), new AbortController().signal);
  const end = performance.now();
  expect(res.error).toBeUndefined();
  expect(res.invalidExamples).toEqual([]);
  const samples = new Map<string, Sample>();
  for (const s of res.samples) {
    const p = relativePath(s.name);
    // One sample per path and run: two would overwrite each other in Graphite.
    expect(samples.has(p), `${p} emitted twice`).toBe(false);
    samples.set(p, s);
  }
  return { samples, start, end };
}

const value = (run: Run, path: string): number | undefined => run.samples.get(path)?.value;

describe('names and kinds', () => {
  it("publishes each instance's status under its own name: levels as gauges, running totals as rates from the second run", async () => {
    const m0 = dbs.get('m0');
    const { r } = mysqlRunner({ instances: { m0: { socket: m0.socket }, m2: { host: '127.0.0.1', port: dbs.get('m2').port, user: 'sonde', password: SONDE_PASSWORD } } });
    const first = await run(r);
    const status = await m0.status();
    const second = await run(r);

    for (const inst of ['m0', 'm2']) {
      expect(value(first, `mysql.${inst}.up`)).toBe(1);
      expect(value(first, `mysql.${inst}.collect_time_ms`)).toBeGreaterThan(0);
      const s = second.samples.get(`mysql.${inst}.Threads_connected`)!;
      expect(s.kind).toBe('gauge');
      expect(s.name.instance).toBe(inst);
      expect(s.name.segments).toEqual(['Threads_connected']);
    }
    // Levels, as the server itself reports them.
    for (const level of ['Innodb_buffer_pool_pages_total', 'Innodb_page_size', 'Open_table_definitions', 'Max_used_connections']) {
      expect(second.samples.get(`mysql.m0.${level}`)?.kind, level).toBe('gauge');
      expect(value(second, `mysql.m0.${level}`), level).toBe(status.get(level));
    }
    for (const level of ['Open_tables', 'Threads_running', 'Uptime', 'Innodb_buffer_pool_pages_free', 'Innodb_row_lock_current_waits']) {
      expect(second.samples.get(`mysql.m0.${level}`)?.kind, level).toBe('gauge');
    }
    // Running totals: nothing on the first run (no interval behind it), a rate on the second.
    for (const total of ['Questions', 'Com_select', 'Bytes_received', 'Bytes_sent', 'Handler_read_rnd_next', 'Threads_created', 'Opened_tables']) {
      expect(first.samples.has(`mysql.m0.${total}`), total).toBe(false);
      expect(second.samples.get(`mysql.m0.${total}`)?.kind, total).toBe('rate');
      expect(second.samples.get(`mysql.m0.${total}`)?.precision, total).toBe(2);
    }
    // ON/OFF states as 1/0; text (a cipher name, a replication role) is not a figure.
    expect(value(second, 'mysql.m0.Slave_running')).toBe(0);
    expect(second.samples.has('mysql.m0.Rpl_status')).toBe(false);
    expect(second.samples.has('mysql.m0.Ssl_cipher')).toBe(false);
    expect(second.samples.has('mysql.m0.Innodb_buffer_pool_load_status')).toBe(false);
  });

  it('publishes only the variables named in publish (and up, collect_time_ms), and says which named ones the server lacks', async () => {
    const { r, said } = mysqlRunner({ instances: { m0: { socket: dbs.get('m0').socket } }, publish: ['Threads_connected', 'Questions', 'Threads_conected'], replication: false });
    await run(r);
    const second = await run(r);
    expect([...second.samples.keys()].filter((k) => k.startsWith('mysql.')).sort()).toEqual(['mysql.m0.Questions', 'mysql.m0.Threads_connected', 'mysql.m0.collect_time_ms', 'mysql.m0.up']);
    expect(said.filter((l) => l.includes('publish names'))).toEqual([
      expect.stringContaining('mysql instance m0 (socket ') as unknown as string,
    ]);
    expect(said.join('\n')).toContain('publish names Threads_conected, which its SHOW GLOBAL STATUS does not have; did you mean Threads_connected?');
  });
});

describe('rates', () => {
  it('equal, over the measured time, the growth of the counters between two SHOW GLOBAL STATUS taken around the interval', async () => {
    const m2 = dbs.get('m2');
    const { r } = mysqlRunner({ instances: { m2: { socket: m2.socket } }, replication: false });
    const work = await m2.connect();
    try {
      await work.query('CREATE DATABASE IF NOT EXISTS w');
      await work.query('CREATE TABLE IF NOT EXISTS w.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT) ENGINE=InnoDB');
      const before = await m2.status();
      const one = await run(r);
      const selects = 300;
      const inserts = 120;
      for (let i = 0; i < selects; i++) await work.query('SELECT 1');
      for (let i = 0; i < inserts; i++) await work.query('INSERT INTO w.t (v) VALUES (?)', [i]);
      await new Promise((res) => setTimeout(res, 700));
      const two = await run(r);
      const after = await m2.status();
      // The collector read its counters somewhere inside each run, so the time between its two
      // readings lies between these two spans, and their growth between the workload's and the
      // growth the test saw around both runs.
      const shortest = (two.start - one.end) / 1000;
      const longest = (two.end - one.start) / 1000;
      const bounds = (variable: string, atLeast: number): [number, number] => [atLeast / longest, (after.get(variable)! - before.get(variable)!) / shortest];
      for (const [variable, atLeast] of [
        ['Com_select', selects],
        ['Com_insert', inserts],
        ['Questions', selects + inserts],
        ['Handler_write', inserts],
        ['Bytes_received', selects * 'SELECT 1'.length],
      ] as const) {
        const [lo, hi] = bounds(variable, atLeast);
        const got = value(two, `mysql.m2.${variable}`)!;
        expect(got, `${variable}: ${got} within [${lo}, ${hi}]`).toBeGreaterThanOrEqual(Math.floor(lo * 100) / 100);
        expect(got, `${variable}: ${got} within [${lo}, ${hi}]`).toBeLessThanOrEqual(Math.ceil(hi * 100) / 100);
      }
    } finally {
      work.destroy();
    }
  });

  it('publishes no rate across a restart of the instance, even for counters that grew past their old value', async () => {
    const m2 = dbs.get('m2');
    const { r } = mysqlRunner({ instances: { m2: { socket: m2.socket }, m0: { socket: dbs.get('m0').socket } }, replication: false });
    await m2.kill();
    await m2.start();
    const fresh = await run(r); // baselines taken right after a start: small counters
    const selectsBefore = (await m2.status()).get('Com_select')!;
    await m2.kill();
    await m2.start();
    const work = await m2.connect();
    // After the restart Com_select passes its old value: a naive rate would be a made-up burst.
    for (let i = 0; i < selectsBefore + 200; i++) await work.query('SELECT 1');
    work.destroy();
    const afterRestart = await run(r);
    expect(value(fresh, 'mysql.m2.up')).toBe(1);
    expect(value(afterRestart, 'mysql.m2.up')).toBe(1);
    const rates = (run: Run, inst: string) => [...run.samples.values()].filter((s) => s.kind === 'rate' && s.name.instance === inst).map((s) => relativePath(s.name));
    expect(rates(afterRestart, 'm2')).toEqual([]);
    // The other instance's rates are not affected.
    expect(rates(afterRestart, 'm0')).toContain('mysql.m0.Questions');
    const next = await run(r);
    expect(next.samples.get('mysql.m2.Com_select')?.kind).toBe('rate');
    expect(value(next, 'mysql.m2.Com_select')).toBeLessThan(50);
  });
});

describe('connections', () => {
  it('keeps one connection per instance open across runs, and replaces it when the server closes it', async () => {
    const m0 = dbs.get('m0');
    const { r, said } = mysqlRunner({ instances: { m0: { socket: m0.socket, user: 'sonde', password: SONDE_PASSWORD } }, replication: false });
    await run(r);
    // Each reading of the counter connects once itself.
    const before = (await m0.status()).get('Connections')!;
    for (let i = 0; i < 3; i++) expect(value(await run(r), 'mysql.m0.up')).toBe(1);
    expect((await m0.status()).get('Connections')! - before).toBe(1);

    const ours = (await m0.sql('SHOW PROCESSLIST')).filter((p) => p.User === 'sonde');
    expect(ours).toHaveLength(1);
    await m0.sql(`KILL ${Number(ours[0]!.Id)}`);
    await new Promise((res) => setTimeout(res, 100));
    const again = await run(r);
    expect(value(again, 'mysql.m0.up')).toBe(1);
    // A new connection: the counters may have started again (a restart drops every connection), so no rate spans it.
    expect([...again.samples.values()].filter((x) => x.kind === 'rate')).toEqual([]);
    expect(value(await run(r), 'mysql.m0.Questions')).toBeDefined();
    expect(said).toEqual([]);
  });
});

describe('replication', () => {
  it("publishes the replica's threads as 1/0 and its lag; a stopped IO thread gives 0 and no lag at all", async () => {
    const m1 = dbs.get('m1');
    const { r } = mysqlRunner({ instances: { m1: { socket: m1.socket } } });
    const running = await run(r);
    const peer = (await m1.sql('SHOW SLAVE STATUS'))[0]!;
    expect(value(running, 'mysql.m1.Slave_IO_Running')).toBe(1);
    expect(value(running, 'mysql.m1.Slave_SQL_Running')).toBe(1);
    expect(value(running, 'mysql.m1.Seconds_Behind_Master')).toBe(Number(peer.Seconds_Behind_Master));
    expect(value(running, 'mysql.m1.Last_IO_Errno')).toBe(0);
    expect(value(running, 'mysql.m1.Last_SQL_Errno')).toBe(0);
    expect(value(running, 'mysql.m1.Read_Master_Log_Pos')).toBe(Number(peer.Read_Master_Log_Pos));
    expect(value(running, 'mysql.m1.Exec_Master_Log_Pos')).toBe(Number(peer.Exec_Master_Log_Pos));
    expect(value(running, 'mysql.m1.Relay_Log_Space')).toBe(Number(peer.Relay_Log_Space));
    expect(running.samples.get('mysql.m1.Relay_Log_Pos')?.kind).toBe('gauge');
    // Diamond's flat names on the instance; nothing under replication.* for the default connection.
    expect([...running.samples.keys()].some((k) => k.startsWith('mysql.m1.replication.'))).toBe(false);

    await m1.sql('STOP SLAVE IO_THREAD');
    try {
      await until('the IO thread to stop', async () => (await m1.sql('SHOW SLAVE STATUS'))[0]?.Slave_IO_Running === 'No');
      const stopped = await run(r);
      expect((await m1.sql('SHOW SLAVE STATUS'))[0]?.Seconds_Behind_Master).toBeNull();
      expect(value(stopped, 'mysql.m1.Slave_IO_Running')).toBe(0);
      expect(value(stopped, 'mysql.m1.Slave_SQL_Running')).toBe(1);
      expect(stopped.samples.has('mysql.m1.Seconds_Behind_Master')).toBe(false);
      expect(value(stopped, 'mysql.m1.up')).toBe(1);
    } finally {
      await m1.sql('START SLAVE IO_THREAD');
    }
  });

  it('keeps the default connection flat and puts each named one (MariaDB multi-source) under replication.<connection>', async () => {
    const m1 = dbs.get('m1');
    await replicate(m1, dbs.get('m2'), 'south');
    try {
      const { r } = mysqlRunner({ instances: { m1: { socket: m1.socket } } });
      await run(r);
      const two = await run(r);
      const south = (await m1.sql('SHOW ALL SLAVES STATUS')).find((x) => x.Connection_name === 'south')!;
      expect(value(two, 'mysql.m1.Slave_IO_Running')).toBe(1);
      expect(value(two, 'mysql.m1.replication.south.Slave_IO_Running')).toBe(1);
      expect(value(two, 'mysql.m1.replication.south.Slave_SQL_Running')).toBe(1);
      expect(value(two, 'mysql.m1.replication.south.Read_Master_Log_Pos')).toBe(Number(south.Read_Master_Log_Pos));
      expect(two.samples.has('mysql.m1.replication.south.Seconds_Behind_Master')).toBe(true);
      expect(two.samples.get('mysql.m1.replication.south.Executed_log_entries')?.kind).toBe('rate');

      // The named connection's master goes away: its IO thread reconnects (Connecting), which is not running.
      await dbs.get('m2').kill();
      await until('the south IO thread to lose its master', async () => (await m1.sql('SHOW ALL SLAVES STATUS')).find((x) => x.Connection_name === 'south')?.Slave_IO_Running !== 'Yes');
      const lost = await run(r);
      expect(value(lost, 'mysql.m1.replication.south.Slave_IO_Running')).toBe(0);
      expect(value(lost, 'mysql.m1.Slave_IO_Running')).toBe(1);
    } finally {
      if (!dbs.get('m2').running) await dbs.get('m2').start();
      await m1.batch(["STOP SLAVE 'south'", "RESET SLAVE 'south' ALL"]);
    }
  });
});

describe('logins and privileges', () => {
  it('a wrong password: up 0, and one message naming the instance, the refusal and where the password comes from, without the password', async () => {
    const wrong = 'not-the-password-3f9';
    const { r, said } = mysqlRunner({ instances: { m2: { host: '127.0.0.1', port: dbs.get('m2').port, user: 'sonde', password: wrong } } });
    const one = await run(r);
    expect(value(one, 'mysql.m2.up')).toBe(0);
    expect([...one.samples.keys()].filter((k) => k.startsWith('mysql.')).sort()).toEqual(['mysql.m2.collect_time_ms', 'mysql.m2.up']);
    expect(value(one, 'sonde.collector.mysql.instances_up')).toBe(0);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`warn mysql instance m2 (127.0.0.1:${dbs.get('m2').port}, instances.m2): refused the login: Access denied for user 'sonde'@'127.0.0.1' (using password: YES)`);
    expect(said[0]).toContain('Check the password given to instances.m2 (password_file, ${ENV} or defaults_file)');
    expect(said[0]).not.toContain(wrong);
  });

  it('a missing privilege: status collected (up 1), and the GRANT line for MariaDB 10.5+ with the account the server knows', async () => {
    const m0 = dbs.get('m0');
    const { r, said } = mysqlRunner({ instances: { m0: { socket: m0.socket, user: 'bare', password: BARE_PASSWORD } }, innodb: true });
    const one = await run(r);
    expect(value(one, 'mysql.m0.up')).toBe(1);
    expect(one.samples.has('mysql.m0.Threads_connected')).toBe(true);
    const grant = "GRANT PROCESS, SLAVE MONITOR ON *.* TO 'bare'@'localhost';";
    const repl = said.find((l) => l.includes('SHOW ALL SLAVES STATUS was refused'));
    expect(repl).toContain('warn mysql instance m0 (socket ');
    expect(repl).toContain('its replication figures are not collected, the status ones are');
    expect(repl).toContain(`Run on the instance: ${grant}`);
    expect(repl).toContain('or set replication: false');
    const innodb = said.find((l) => l.includes('SHOW ENGINE INNODB STATUS was refused'));
    expect(innodb).toContain(`Run on the instance: ${grant}`);
    expect(innodb).toContain('or set innodb: false');
  });

  it('reads the InnoDB monitor under Diamond\'s names when the privilege is there', async () => {
    const m0 = dbs.get('m0');
    const { r } = mysqlRunner({ instances: { m0: { socket: m0.socket, user: 'sonde', password: SONDE_PASSWORD } }, innodb: true });
    const one = await run(r);
    const report = String((await m0.sql('SHOW ENGINE INNODB STATUS'))[0]!.Status);
    const pool = Number(/^Buffer pool size\s+(\d+)/m.exec(report)![1]);
    expect(value(one, 'mysql.m0.Innodb_bp_size')).toBe(pool);
    expect(one.samples.get('mysql.m0.Innodb_status_process_time')?.kind).toBe('gauge');
    expect(one.samples.get('mysql.m0.Innodb_trx_history_list_length')?.kind).toBe('gauge');
    const two = await run(r);
    expect(two.samples.get('mysql.m0.Innodb_io_os_file_reads')?.kind).toBe('rate');
  });
});

describe('beside mysqld_exporter', () => {
  it('reports the same levels as Debian\'s prometheus-mysqld-exporter for the same instance in the same second', async () => {
    const m1 = dbs.get('m1');
    const exporter = await startExporter(m1);
    try {
      const { r } = mysqlRunner({ instances: { m1: { socket: m1.socket } } });
      await run(r);
      const channel = '{channel_name="",connection_name="",master_host="127.0.0.1",master_uuid=""}';
      const pairs: [string, string][] = [
        ['Innodb_page_size', 'mysql_global_status_innodb_page_size'],
        ['Innodb_buffer_pool_pages_data', 'mysql_global_status_buffer_pool_pages{state="data"}'],
        ['Innodb_buffer_pool_pages_free', 'mysql_global_status_buffer_pool_pages{state="free"}'],
        ['Open_table_definitions', 'mysql_global_status_open_table_definitions'],
        ['Innodb_num_open_files', 'mysql_global_status_innodb_num_open_files'],
        ['Key_blocks_unused', 'mysql_global_status_key_blocks_unused'],
        ['Slave_IO_Running', `mysql_slave_status_slave_io_running${channel}`],
        ['Slave_SQL_Running', `mysql_slave_status_slave_sql_running${channel}`],
        ['Read_Master_Log_Pos', `mysql_slave_status_read_master_log_pos${channel}`],
        ['Relay_Log_Space', `mysql_slave_status_relay_log_space${channel}`],
        ['Seconds_Behind_Master', `mysql_slave_status_seconds_behind_master${channel}`],
      ];
      // A level may move while the two read it (a fresh instance loads its buffer pool in the
      // background; a replica applies events): the exporter reads just before and just after
      // sonde, and the comparison is made on a reading where the exporter saw no level move.
      let theirs = new Map<string, number>();
      let ours: Awaited<ReturnType<typeof run>> | undefined;
      for (let attempt = 0; attempt < 20; attempt++) {
        const t = Date.now();
        const before = await exporter.scrape();
        ours = await run(r);
        theirs = await exporter.scrape();
        expect(Date.now() - t).toBeLessThan(1000);
        if (pairs.every(([, e]) => before.get(e) === theirs.get(e))) break;
        ours = undefined;
        await new Promise((res) => setTimeout(res, 250));
      }
      expect(ours, 'the levels kept moving for 20 readings').toBeDefined();
      for (const [mine, exporters] of pairs) {
        expect(theirs.has(exporters), exporters).toBe(true);
        expect(value(ours!, `mysql.m1.${mine}`), mine).toBe(theirs.get(exporters));
      }
      // Uptime in whole seconds, read a few milliseconds apart: at most one second off.
      expect(Math.abs(value(ours!, 'mysql.m1.Uptime')! - theirs.get('mysql_global_status_uptime')!)).toBeLessThanOrEqual(1);
    } finally {
      await exporter.stop();
    }
  });
});
