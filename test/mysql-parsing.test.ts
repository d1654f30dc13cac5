// The mysql collector's pure parts: option files, the InnoDB monitor's report (recorded from
// MariaDB 10.11, and typed in MySQL 5.5's layout), which status variables are levels, what the
// server's flavour implies, and MySQL 8's replication columns under Diamond's names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { account, grantLine, parseFlavour, replicationStatement } from '../collectors/mysql/flavour.js';
import { innodbFigures } from '../collectors/mysql/innodb.js';
import { OptionFileError, parseOptions, readOptionFile } from '../collectors/mysql/option-file.js';
import { replicationRow } from '../collectors/mysql/replication.js';
import { isLevel, statusNumber } from '../collectors/mysql/status.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'mysql');

describe('option files', () => {
  it('reads groups as the client library does: comments, quotes, escapes, - as _, later lines win', () => {
    const groups = parseOptions(
      [
        '# a comment',
        '; another',
        'user = stray            # before any group: no client reads it',
        '[client]',
        'user = sonde            # a comment after a value',
        'password = "pa#ss word"',
        "socket='/run/mysqld/m 1.sock'",
        'default-character-set=utf8mb4',
        'skip-ssl',
        '  [Client]  ',
        'port = 3307',
        'host=h\\s1\\\\x',
        '[mysqld1]',
        'socket = /run/mysqld/mysqld1.sock',
        'port = 3306',
        '[client]',
        'port = 3308',
      ].join('\n'),
      new Map(),
    );
    expect(Object.fromEntries(groups.get('client')!)).toEqual({
      user: 'sonde',
      password: 'pa#ss word',
      socket: '/run/mysqld/m 1.sock',
      default_character_set: 'utf8mb4',
      skip_ssl: '',
      port: '3308',
      host: 'h 1\\x',
    });
    expect(Object.fromEntries(groups.get('mysqld1')!)).toEqual({ socket: '/run/mysqld/mysqld1.sock', port: '3306' });
    expect([...groups.keys()]).toEqual(['client', 'mysqld1']);
  });

  it('follows !include and !includedir (its *.cnf files by name) where they stand', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, {
      'my.cnf': `[client]\nuser = first\n!include ${dir}/extra.cnf\n!includedir ${dir}/conf.d\n[client]\nport = 1\n`,
      'extra.cnf': '[client]\nuser = from-extra\nport = 9\n',
      'conf.d/b.cnf': '[mysqld2]\nsocket = /b.sock\n',
      'conf.d/a.cnf': '[mysqld2]\nsocket = /a.sock\n[client]\nsocket=/s\n',
      'conf.d/README': '[mysqld2]\nsocket = /not-read\n',
    });
    const groups = readOptionFile(f['my.cnf']!);
    expect(Object.fromEntries(groups.get('client')!)).toEqual({ user: 'from-extra', port: '1', socket: '/s' });
    expect(groups.get('mysqld2')!.get('socket')).toBe('/b.sock');
  });

  it('names the file that cannot be read, an included one too, and stops a file that includes itself', () => {
    const dir = tmpdir();
    const f = writeFiles(dir, { 'a.cnf': `[client]\n!include ${dir}/missing.cnf\n`, 'loop.cnf': `!include ${dir}/loop.cnf\n` });
    expect(() => readOptionFile(f['a.cnf']!)).toThrow(new OptionFileError(`${dir}/missing.cnf`, 'no such file'));
    expect(() => readOptionFile(f['loop.cnf']!)).toThrow(/more than 10 nested !include levels/);
    expect(() => readOptionFile(dir)).toThrow(new OptionFileError(dir, 'it is a directory'));
  });
});

/** Diamond's names, values and kinds, read off the report by hand. */
type Expected = Record<string, [number, 'level' | 'total']>;

function figures(file: string): Expected {
  const out: Expected = {};
  for (const f of innodbFigures(readFileSync(path.join(FIXTURES, file), 'utf8'))) {
    expect(out[f.name], `${f.name} twice`).toBeUndefined();
    out[f.name] = [f.value, f.kind];
  }
  return out;
}

describe('SHOW ENGINE INNODB STATUS', () => {
  it("MariaDB 10.11's report: the lines it still prints, under Diamond's names", () => {
    expect(figures('innodb-status-mariadb-10.11.txt')).toEqual({
      Innodb_per_sec_avg: [3, 'level'],
      Innodb_main_thd_log_flush_writes: [3, 'total'],
      Innodb_trx_history_list_length: [0, 'level'],
      Innodb_io_os_file_reads: [301, 'total'],
      Innodb_io_os_file_writes: [130, 'total'],
      Innodb_io_os_file_fsyncs: [3, 'total'],
      Innodb_reads_per_sec: [0, 'level'],
      Innodb_bytes_per_read: [16928, 'level'],
      Innodb_io_syncs_per_sec: [0, 'level'],
      Innodb_writes_per_sec: [0, 'level'],
      Innodb_bp_dictionary_alloc: [79136, 'level'],
      Innodb_bp_size: [507, 'level'],
      Innodb_bp_free_buffers: [354, 'level'],
      Innodb_bp_db_pages: [153, 'level'],
      Innodb_bp_old_db_pages: [0, 'level'],
      Innodb_bp_modified_pages: [18, 'level'],
      Innodb_bp_pages_young: [0, 'total'],
      Innodb_bp_pages_not_young: [0, 'total'],
      Innodb_bp_pages_young_per_sec: [0, 'level'],
      Innodb_bp_pages_not_young_per_sec: [0, 'level'],
      Innodb_bp_pages_read: [290, 'total'],
      Innodb_bp_pages_created: [137, 'total'],
      Innodb_bp_pages_written: [130, 'total'],
      Innodb_bp_reads_per_sec: [96.63, 'level'],
      Innodb_bp_created_per_sec: [45.65, 'level'],
      Innodb_bp_written_per_sec: [43.32, 'level'],
      Innodb_bp_hit_rate: [760, 'level'],
      Innodb_bp_young_hit_rate: [0, 'level'],
      Innodb_bp_not_young_hit_rate: [0, 'level'],
      Innodb_bp_pages_read_ahead_per_sec: [0, 'level'],
      Innodb_bp_pages_evicted_no_access_per_sec: [0, 'level'],
      Innodb_status_bp_pages_random_read_ahead: [0, 'level'],
      Innodb_bp_lru_len: [153, 'level'],
      Innodb_bp_unzip_lru_len: [0, 'level'],
      Innodb_bp_io_sum_pages: [0, 'level'],
      Innodb_bp_io_cur_pages: [151, 'level'],
      Innodb_bp_io_unzip_sum_pages: [0, 'level'],
      Innodb_bp_io_unzip_cur_pages: [0, 'level'],
    });
  });

  it("MySQL 5.5's layout: semaphores, insert buffer, hash index, log and row operations too", () => {
    expect(figures('innodb-status-classic.txt')).toEqual({
      Innodb_per_sec_avg: [20, 'level'],
      Innodb_main_thd_loops_one_sec: [12, 'total'],
      Innodb_main_thd_loops_sleeps: [11, 'total'],
      Innodb_main_thd_loops_ten_sec: [1, 'total'],
      Innodb_main_thd_loops_background: [3, 'total'],
      Innodb_main_thd_loops_flush: [3, 'total'],
      Innodb_main_thd_log_flush_writes: [14, 'total'],
      Innodb_sem_os_reservation_count: [7, 'total'],
      Innodb_sem_os_signal_count: [6, 'total'],
      Innodb_sem_mutex_spin_waits: [40, 'total'],
      Innodb_sem_mutex_rounds: [120, 'total'],
      Innodb_sem_mutex_os_waits: [5, 'total'],
      Innodb_sem_shared_spins: [8, 'total'],
      Innodb_sem_shared_rounds: [16, 'total'],
      Innodb_sem_shared_os_waits: [2, 'total'],
      Innodb_sem_rw_excl_spins: [3, 'total'],
      Innodb_sem_rw_excl_rounds: [30, 'total'],
      Innodb_sem_rw_excl_os_waits: [1, 'total'],
      Innodb_sem_spins_per_wait_mutex: [3, 'level'],
      Innodb_sem_spins_per_wait_rw_shared: [2, 'level'],
      Innodb_sem_spins_per_wait_rw_excl: [10, 'level'],
      Innodb_trx_history_list_length: [17, 'level'],
      Innodb_trx_total_lock_structs: [3, 'level'],
      Innodb_io_pending_reads: [2, 'level'],
      Innodb_io_pending_writes: [1, 'level'],
      Innodb_io_ibuf_reads: [0, 'level'],
      Innodb_io_ibuf_logs: [0, 'level'],
      Innodb_io_ibuf_syncs: [0, 'level'],
      Innodb_io_pending_flush_log: [0, 'level'],
      Innodb_io_pending_flush_bp: [1, 'level'],
      Innodb_io_os_file_reads: [451, 'total'],
      Innodb_io_os_file_writes: [1220, 'total'],
      Innodb_io_os_file_fsyncs: [800, 'total'],
      // Diamond's names for this line: its third figure (writes/s) is "io_syncs", its fourth (fsyncs/s) "writes".
      Innodb_reads_per_sec: [0.5, 'level'],
      Innodb_bytes_per_read: [16384, 'level'],
      Innodb_io_syncs_per_sec: [2.25, 'level'],
      Innodb_writes_per_sec: [1.1, 'level'],
      Innodb_ibuf_size: [1, 'level'],
      Innodb_ibuf_free_list_len: [5, 'level'],
      Innodb_ibuf_seg_size: [7, 'level'],
      Innodb_ibuf_merges: [2, 'total'],
      Innodb_hash_table_size: [276671, 'level'],
      Innodb_hash_node_heap: [3, 'level'],
      Innodb_hash_searches_per_sec: [12.5, 'level'],
      Innodb_non_hash_searches_per_sec: [4.25, 'level'],
      Innodb_log_pending_log_writes: [0, 'level'],
      Innodb_log_pending_checkpoint_writes: [0, 'level'],
      Innodb_log_io_total: [642, 'total'],
      Innodb_log_io_per_sec: [0.35, 'level'],
      Innodb_bp_total_alloc: [137363456, 'level'],
      Innodb_bp_add_alloc: [0, 'level'],
      Innodb_bp_dictionary_alloc: [45240, 'level'],
      Innodb_bp_size: [8191, 'level'],
      Innodb_bp_free_buffers: [7800, 'level'],
      Innodb_bp_db_pages: [390, 'level'],
      Innodb_bp_old_db_pages: [0, 'level'],
      Innodb_bp_modified_pages: [4, 'level'],
      Innodb_bp_pending_writes_lru: [0, 'level'],
      Innodb_bp_pending_writes_flush_list: [0, 'level'],
      Innodb_bp_pending_writes_single_page: [0, 'level'],
      Innodb_bp_pages_young: [6, 'total'],
      Innodb_bp_pages_not_young: [9, 'total'],
      Innodb_bp_pages_young_per_sec: [0.1, 'level'],
      Innodb_bp_pages_not_young_per_sec: [0.2, 'level'],
      Innodb_bp_pages_read: [380, 'total'],
      Innodb_bp_pages_created: [10, 'total'],
      Innodb_bp_pages_written: [500, 'total'],
      Innodb_bp_reads_per_sec: [0.4, 'level'],
      Innodb_bp_created_per_sec: [0.05, 'level'],
      Innodb_bp_written_per_sec: [2, 'level'],
      Innodb_bp_hit_rate: [998, 'level'],
      Innodb_bp_young_hit_rate: [1, 'level'],
      Innodb_bp_not_young_hit_rate: [2, 'level'],
      Innodb_bp_pages_read_ahead_per_sec: [0, 'level'],
      Innodb_bp_pages_evicted_no_access_per_sec: [0, 'level'],
      Innodb_status_bp_pages_random_read_ahead: [0, 'level'],
      Innodb_bp_lru_len: [390, 'level'],
      Innodb_bp_unzip_lru_len: [0, 'level'],
      Innodb_bp_io_sum_pages: [3, 'level'],
      Innodb_bp_io_cur_pages: [1, 'level'],
      Innodb_bp_io_unzip_sum_pages: [0, 'level'],
      Innodb_bp_io_unzip_cur_pages: [0, 'level'],
      Innodb_row_queries_inside: [1, 'level'],
      Innodb_row_queries_queue: [0, 'level'],
      Innodb_rows_inserted: [1000, 'total'],
      Innodb_rows_updated: [50, 'total'],
      Innodb_rows_deleted: [10, 'total'],
      Innodb_rows_read: [30000, 'total'],
      Innodb_rows_inserted_per_sec: [1.5, 'level'],
      Innodb_rows_updated_per_sec: [0.25, 'level'],
      Innodb_rows_deleted_per_sec: [0.05, 'level'],
      Innodb_rows_read_per_sec: [20, 'level'],
    });
  });

  it('gives nothing for a report with none of its lines', () => {
    expect(innodbFigures('')).toEqual([]);
    expect(innodbFigures('Buffer pool size   lots\nHistory list length\n')).toEqual([]);
  });
});

describe('status variables', () => {
  // Kinds from the servers' documentation of each variable (a count of what exists now, or a
  // total since the start), for variables that MariaDB 10.11 reports (the recorded list).
  const LEVELS = [
    'Threads_connected', 'Threads_running', 'Threads_cached', 'Open_tables', 'Open_files', 'Open_table_definitions', 'Open_streams',
    'Innodb_buffer_pool_pages_data', 'Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_free', 'Innodb_buffer_pool_pages_misc',
    'Innodb_buffer_pool_pages_total', 'Innodb_buffer_pool_pages_old', 'Innodb_buffer_pool_bytes_data', 'Innodb_page_size',
    'Innodb_row_lock_current_waits', 'Innodb_row_lock_time_avg', 'Innodb_row_lock_time_max', 'Innodb_data_pending_reads',
    'Innodb_data_pending_writes', 'Max_used_connections', 'Memory_used', 'Prepared_stmt_count', 'Qcache_free_memory',
    'Qcache_queries_in_cache', 'Key_blocks_unused', 'Key_blocks_used', 'Uptime', 'Uptime_since_flush_status', 'Slaves_connected',
    'Slave_open_temp_tables', 'Innodb_checkpoint_age', 'Innodb_history_list_length', 'Innodb_num_open_files', 'Acl_users',
    'Rpl_semi_sync_master_clients', 'Binlog_snapshot_position', 'Innodb_lsn_current', 'Innodb_buffer_pool_load_incomplete',
    'Slave_running', 'wsrep_cluster_size', 'Rpl_semi_sync_master_net_avg_wait_time', 'Delayed_insert_threads',
  ];
  const TOTALS = [
    'Questions', 'Queries', 'Com_select', 'Com_insert', 'Bytes_received', 'Bytes_sent', 'Connections', 'Aborted_clients', 'Aborted_connects',
    'Threads_created', 'Opened_tables', 'Opened_files', 'Handler_read_rnd_next', 'Handler_write', 'Innodb_buffer_pool_read_requests',
    'Innodb_buffer_pool_reads', 'Innodb_buffer_pool_pages_flushed', 'Innodb_data_reads', 'Innodb_data_written', 'Innodb_row_lock_time',
    'Innodb_row_lock_waits', 'Innodb_log_waits', 'Created_tmp_disk_tables', 'Select_scan', 'Sort_rows', 'Slow_queries', 'Table_locks_waited',
    'Key_reads', 'Qcache_hits', 'Busy_time', 'Cpu_time', 'Binlog_bytes_written', 'Rpl_semi_sync_master_yes_tx', 'Max_statement_time_exceeded',
    'Feature_json', 'Performance_schema_digest_lost', 'Ssl_accepts', 'Access_denied_errors', 'wsrep_local_bf_aborts', 'Innodb_master_thread_active_loops',
  ];
  const recorded = new Map(
    readFileSync(path.join(FIXTURES, 'global-status-mariadb-10.11.tsv'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string]),
  );

  it('tells levels from running totals', () => {
    for (const n of [...LEVELS, ...TOTALS]) expect(recorded.has(n), `${n} is a MariaDB 10.11 variable`).toBe(true);
    expect(LEVELS.filter((n) => !isLevel(n))).toEqual([]);
    expect(TOTALS.filter((n) => isLevel(n))).toEqual([]);
  });

  it("reads values as numbers, ON/YES as 1 and OFF/NO as 0, and leaves text out", () => {
    expect(statusNumber('4242')).toBe(4242);
    expect(statusNumber('0.005667')).toBe(0.005667);
    expect(statusNumber('-1')).toBe(-1);
    expect(statusNumber('18446744073709551615')).toBe(18446744073709551615);
    for (const on of ['ON', 'YES', 'Yes', 'on']) expect(statusNumber(on), on).toBe(1);
    for (const off of ['OFF', 'NO', 'No']) expect(statusNumber(off), off).toBe(0);
    for (const text of ['', 'NULL', null, undefined, 'AUTH_MASTER', 'Buffer pool(s) load completed at 261201 21:10:57', '1.2.3', '-', 'Primary']) {
      expect(statusNumber(text), String(text)).toBeUndefined();
    }
    // Every recorded value that reads as a number is one the server wrote as digits or as a state.
    const read = [...recorded].filter(([, v]) => statusNumber(v) !== undefined).map(([k]) => k);
    expect(read.length).toBeGreaterThan(500);
    expect(read).toContain('Slave_running');
    expect(read).not.toContain('Ssl_cipher');
  });
});

describe('the server flavour', () => {
  it('reads the version MariaDB announces behind its 5.5.5- prefix', () => {
    expect(parseFlavour('5.5.5-10.11.19-MariaDB-0+deb12u1-log')).toEqual({ mariadb: true, major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB-0+deb12u1-log' });
    expect(parseFlavour('8.0.36-0ubuntu0.22.04.1')).toMatchObject({ mariadb: false, major: 8, minor: 0, patch: 36 });
    expect(parseFlavour('11.4.2-MariaDB')).toMatchObject({ mariadb: true, major: 11, minor: 4, patch: 2 });
  });

  it('asks for replication the way each server spells it', () => {
    expect(replicationStatement(parseFlavour('5.5.5-10.11.19-MariaDB-log'))).toBe('SHOW ALL SLAVES STATUS');
    expect(replicationStatement(parseFlavour('8.0.22'))).toBe('SHOW REPLICA STATUS');
    expect(replicationStatement(parseFlavour('8.4.0'))).toBe('SHOW REPLICA STATUS');
    expect(replicationStatement(parseFlavour('8.0.21'))).toBe('SHOW SLAVE STATUS');
    expect(replicationStatement(parseFlavour('5.7.44-log'))).toBe('SHOW SLAVE STATUS');
  });

  it('writes the GRANT line the server needs: MariaDB 10.5.9+ SLAVE MONITOR, 10.5.0-10.5.8 REPLICATION SLAVE ADMIN, before and on MySQL REPLICATION CLIENT', () => {
    const who = account('sonde', 'localhost');
    expect(who).toBe("'sonde'@'localhost'");
    expect(grantLine(parseFlavour('5.5.5-10.11.19-MariaDB'), who)).toBe("GRANT PROCESS, SLAVE MONITOR ON *.* TO 'sonde'@'localhost';");
    expect(grantLine(parseFlavour('5.5.5-10.5.9-MariaDB'), who)).toBe("GRANT PROCESS, SLAVE MONITOR ON *.* TO 'sonde'@'localhost';");
    expect(grantLine(parseFlavour('5.5.5-10.5.8-MariaDB'), who)).toBe("GRANT PROCESS, REPLICATION SLAVE ADMIN ON *.* TO 'sonde'@'localhost';");
    expect(grantLine(parseFlavour('5.5.5-10.4.32-MariaDB'), who)).toBe("GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'sonde'@'localhost';");
    expect(grantLine(parseFlavour('8.0.36'), who)).toBe("GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'sonde'@'localhost';");
    expect(account("o'brien", '%')).toBe("'o\\'brien'@'%'");
  });
});

describe("MySQL 8's replication columns", () => {
  it("are published under Diamond's Master/Slave names, per channel, with no lag while it is NULL", () => {
    // SHOW REPLICA STATUS's columns as MySQL 8.0.22+ names them (a subset, in its order).
    const columns = ['Replica_IO_State', 'Source_Host', 'Source_Port', 'Read_Source_Log_Pos', 'Relay_Log_Pos', 'Replica_IO_Running', 'Replica_SQL_Running', 'Last_Errno', 'Skip_Counter', 'Exec_Source_Log_Pos', 'Relay_Log_Space', 'Seconds_Behind_Source', 'Last_IO_Errno', 'Last_SQL_Errno', 'Source_Server_Id', 'SQL_Delay', 'SQL_Remaining_Delay', 'Channel_Name'];
    const row = ['Connecting to source', '10.0.0.1', 3306, '1234', '456', 'Connecting', 'Yes', 0, 0, '1200', '789', null, 2003, 0, 7, 0, null, 'east'];
    const got = replicationRow(columns, row);
    expect(got.connection).toBe('east');
    expect(Object.fromEntries(got.figures.map((f) => [f.name, [f.value, f.kind]]))).toEqual({
      Read_Master_Log_Pos: [1234, 'level'],
      Relay_Log_Pos: [456, 'level'],
      Slave_IO_Running: [0, 'level'],
      Slave_SQL_Running: [1, 'level'],
      Last_Errno: [0, 'level'],
      Skip_Counter: [0, 'level'],
      Exec_Master_Log_Pos: [1200, 'level'],
      Relay_Log_Space: [789, 'level'],
      Last_IO_Errno: [2003, 'level'],
      Last_SQL_Errno: [0, 'level'],
      SQL_Delay: [0, 'level'],
    });
  });

  it("counts only Yes as running: No, Connecting and Preparing are 0", () => {
    for (const [state, v] of [['Yes', 1], ['No', 0], ['Connecting', 0], ['Preparing', 0], [null, 0]] as const) {
      expect(replicationRow(['Slave_IO_Running'], [state]).figures).toEqual([{ name: 'Slave_IO_Running', value: v, kind: 'level' }]);
    }
  });
});
