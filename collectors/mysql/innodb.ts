// SHOW ENGINE INNODB STATUS: the monitor's text report, read line by line into Diamond's names
// (MySQLCollector's innodb_status_keys): each pattern is tried at the start of each line, the
// first line it matches gives its figures, and lines a server version no longer prints give
// nothing. Diamond's per-second averages and sizes are levels; its counts are running totals.
import type { FigureKind } from './replication.js';

interface Pattern {
  readonly names: readonly string[];
  readonly re: RegExp;
}

// Diamond's numbers are `\d+` or `\d+.\d+` (any character for the dot); the same here, dot
// escaped. Written as Diamond matches them: from the start of the line.
const N = '(\\d+)';
const F = '(\\d+\\.\\d+)';

function p(names: string, re: string): Pattern {
  return { names: names.split(','), re: new RegExp(`^${re}`) };
}

const PATTERNS: readonly Pattern[] = [
  p('Innodb_bp_total_alloc,Innodb_bp_add_alloc', `Total memory allocated ${N}; in additional pool allocated ${N}`),
  p('Innodb_bp_reads_per_sec,Innodb_bp_created_per_sec,Innodb_bp_written_per_sec', `${F} reads/s, ${F} creates/s, ${F} writes/s`),
  p('Innodb_io_ibuf_reads,Innodb_io_ibuf_logs,Innodb_io_ibuf_syncs', ` ibuf aio reads: ${N}, log i/o's: ${N}, sync i/o's: ${N}`),
  p('Innodb_log_pending_log_writes,Innodb_log_pending_checkpoint_writes', `${N} pending log writes, ${N} pending chkp writes`),
  p('Innodb_hash_searches_per_sec,Innodb_non_hash_searches_per_sec', `${F} hash searches/s, ${F} non-hash searches/s`),
  p('Innodb_row_queries_inside,Innodb_row_queries_queue', `${N} queries inside InnoDB, ${N} queries in queue`),
  // Diamond names only the first of the four numbers.
  p('Innodb_trx_total_lock_structs', `${N} lock struct\\(s\\), heap size ${N}, ${N} row lock\\(s\\), undo log entries ${N}`),
  p('Innodb_log_io_total,Innodb_log_io_per_sec', `${N} log i/o's done, ${F} log i/o's/second`),
  p('Innodb_io_os_file_reads,Innodb_io_os_file_writes,Innodb_io_os_file_fsyncs', `${N} OS file reads, ${N} OS file writes, ${N} OS fsyncs`),
  p('Innodb_rows_inserted_per_sec,Innodb_rows_updated_per_sec,Innodb_rows_deleted_per_sec,Innodb_rows_read_per_sec', `${F} inserts/s, ${F} updates/s, ${F} deletes/s, ${F} reads/s`),
  p('Innodb_reads_per_sec,Innodb_bytes_per_read,Innodb_io_syncs_per_sec,Innodb_writes_per_sec', `${F} reads/s, ${N} avg bytes/read, ${F} writes/s, ${F} fsyncs/s`),
  p('Innodb_bp_pages_young_per_sec,Innodb_bp_pages_not_young_per_sec', `${F} youngs/s, ${F} non-youngs/s`),
  p('Innodb_bp_hit_rate,Innodb_bp_young_hit_rate,Innodb_bp_not_young_hit_rate', `Buffer pool hit rate ${N} / \\d+, young-making rate ${N} / \\d+ not ${N} / \\d+`),
  p('Innodb_bp_size', `Buffer pool size   ${N}`),
  p('Innodb_bp_db_pages', `Database pages     ${N}`),
  p('Innodb_bp_dictionary_alloc', `Dictionary memory allocated ${N}`),
  p('Innodb_bp_free_buffers', `Free buffers       ${N}`),
  p('Innodb_hash_table_size,Innodb_hash_node_heap', `Hash table size ${N}, node heap has ${N} buffer\\(s\\)`),
  p('Innodb_trx_history_list_length', `History list length ${N}`),
  p('Innodb_bp_io_sum_pages,Innodb_bp_io_cur_pages,Innodb_bp_io_unzip_sum_pages,Innodb_bp_io_unzip_cur_pages', `I/O sum\\[${N}\\]:cur\\[${N}\\], unzip sum\\[${N}\\]:cur\\[${N}\\]`),
  p('Innodb_ibuf_size,Innodb_ibuf_free_list_len,Innodb_ibuf_seg_size,Innodb_ibuf_merges', `Ibuf: size ${N}, free list len ${N}, seg size ${N}, ${N} merges`),
  p('Innodb_bp_lru_len,Innodb_bp_unzip_lru_len', `LRU len: ${N}, unzip_LRU len: ${N}`),
  p('Innodb_bp_modified_pages', `Modified db pages  ${N}`),
  p('Innodb_sem_mutex_spin_waits,Innodb_sem_mutex_rounds,Innodb_sem_mutex_os_waits', `Mutex spin waits ${N}, rounds ${N}, OS waits ${N}`),
  p('Innodb_rows_inserted,Innodb_rows_updated,Innodb_rows_deleted,Innodb_rows_read', `Number of rows inserted ${N}, updated ${N}, deleted ${N}, read ${N}`),
  p('Innodb_bp_old_db_pages', `Old database pages ${N}`),
  p('Innodb_sem_os_reservation_count,Innodb_sem_os_signal_count', `OS WAIT ARRAY INFO: reservation count ${N}, signal count ${N}`),
  p('Innodb_bp_pages_young,Innodb_bp_pages_not_young', `Pages made young ${N}, not young ${N}`),
  p('Innodb_bp_pages_read,Innodb_bp_pages_created,Innodb_bp_pages_written', `Pages read ${N}, created ${N}, written ${N}`),
  p('Innodb_bp_pages_read_ahead_per_sec,Innodb_bp_pages_evicted_no_access_per_sec,Innodb_status_bp_pages_random_read_ahead', `Pages read ahead ${F}/s, evicted without access ${F}/s, Random read ahead ${F}/s`),
  p('Innodb_io_pending_flush_log,Innodb_io_pending_flush_bp', `Pending flushes \\(fsync\\) log: ${N}; buffer pool: ${N}`),
  // The server prints a space before the comma, Diamond's pattern none: both are taken.
  p('Innodb_io_pending_reads,Innodb_io_pending_writes', `Pending normal aio reads: ${N} \\[\\d+, \\d+, \\d+, \\d+\\] ?, aio writes: ${N} \\[\\d+, \\d+, \\d+, \\d+\\]`),
  p('Innodb_bp_pending_writes_lru,Innodb_bp_pending_writes_flush_list,Innodb_bp_pending_writes_single_page', `Pending writes: LRU ${N}, flush list ${N}, single page ${N}`),
  p('Innodb_per_sec_avg', `Per second averages calculated from the last ${N} seconds`),
  p('Innodb_sem_rw_excl_spins,Innodb_sem_rw_excl_rounds,Innodb_sem_rw_excl_os_waits', `RW-excl spins ${N}, rounds ${N}, OS waits ${N}`),
  p('Innodb_sem_shared_spins,Innodb_sem_shared_rounds,Innodb_sem_shared_os_waits', `RW-shared spins ${N}, rounds ${N}, OS waits ${N}`),
  p('Innodb_sem_spins_per_wait_mutex,Innodb_sem_spins_per_wait_rw_shared,Innodb_sem_spins_per_wait_rw_excl', `Spin rounds per wait: ${F} mutex, ${F} RW-shared, ${F} RW-excl`),
  p('Innodb_main_thd_log_flush_writes', `srv_master_thread log flush and writes: ${N}`),
  p('Innodb_main_thd_loops_one_sec,Innodb_main_thd_loops_sleeps,Innodb_main_thd_loops_ten_sec,Innodb_main_thd_loops_background,Innodb_main_thd_loops_flush', `srv_master_thread loops: ${N} 1_second, ${N} sleeps, ${N} 10_second, ${N} background, ${N} flush`),
  p('Innodb_ibuf_inserts,Innodb_ibuf_merged_recs,Innodb_ibuf_merges', `${N} inserts, ${N} merged recs, ${N} merges`),
];

/** Diamond's levels among these names (its _GAUGE_KEYS); the rest are running totals. */
const LEVELS = new Set([
  'Innodb_bp_created_per_sec',
  'Innodb_bp_pages_evicted_no_access_per_sec',
  'Innodb_bp_pages_not_young_per_sec',
  'Innodb_bp_pages_read_ahead_per_sec',
  'Innodb_bp_pages_young_per_sec',
  'Innodb_bp_reads_per_sec',
  'Innodb_bp_written_per_sec',
  'Innodb_bp_add_alloc',
  'Innodb_bp_db_pages',
  'Innodb_bp_dictionary_alloc',
  'Innodb_bp_free_buffers',
  'Innodb_bp_hit_rate',
  'Innodb_bp_io_cur_pages',
  'Innodb_bp_io_sum_pages',
  'Innodb_bp_io_unzip_cur_pages',
  'Innodb_bp_io_unzip_sum_pages',
  'Innodb_bp_lru_len',
  'Innodb_bp_modified_pages',
  'Innodb_bp_not_young_hit_rate',
  'Innodb_bp_old_db_pages',
  'Innodb_bp_pending_pages',
  'Innodb_bp_pending_writes_flush_list',
  'Innodb_bp_pending_writes_lru',
  'Innodb_bp_pending_writes_single_page',
  'Innodb_bp_size',
  'Innodb_bp_total_alloc',
  'Innodb_bp_unzip_lru_len',
  'Innodb_bp_young_hit_rate',
  'Innodb_hash_searches_per_sec',
  'Innodb_io_syncs_per_sec',
  'Innodb_log_io_per_sec',
  'Innodb_non_hash_searches_per_sec',
  'Innodb_per_sec_avg',
  'Innodb_reads_per_sec',
  'Innodb_rows_deleted_per_sec',
  'Innodb_rows_inserted_per_sec',
  'Innodb_rows_read_per_sec',
  'Innodb_rows_updated_per_sec',
  'Innodb_sem_spins_per_wait_mutex',
  'Innodb_sem_spins_per_wait_rw_excl',
  'Innodb_sem_spins_per_wait_rw_shared',
  'Innodb_writes_per_sec',
  'Innodb_bytes_per_read',
  'Innodb_hash_node_heap',
  'Innodb_hash_table_size',
  'Innodb_hash_used_cells',
  'Innodb_ibuf_free_list_len',
  'Innodb_ibuf_seg_size',
  'Innodb_ibuf_size',
  'Innodb_io_ibuf_logs',
  'Innodb_io_ibuf_reads',
  'Innodb_io_ibuf_syncs',
  'Innodb_io_pending_flush_bp',
  'Innodb_io_pending_flush_log',
  'Innodb_io_pending_reads',
  'Innodb_io_pending_writes',
  'Innodb_log_pending_checkpoint_writes',
  'Innodb_log_pending_log_writes',
  'Innodb_row_queries_inside',
  'Innodb_row_queries_queue',
  'Innodb_trx_history_list_length',
  'Innodb_trx_total_lock_structs',
  // Random read ahead is a per-second average like its neighbours on the line; Diamond left it out.
  'Innodb_status_bp_pages_random_read_ahead',
]);

export interface InnodbFigure {
  readonly name: string;
  readonly value: number;
  readonly kind: FigureKind;
}

/** The figures of one SHOW ENGINE INNODB STATUS report, each name once (its first line wins). */
export function innodbFigures(report: string): InnodbFigure[] {
  const out: InnodbFigure[] = [];
  const seen = new Set<string>();
  const todo = new Set(PATTERNS);
  for (const line of report.split('\n')) {
    if (todo.size === 0) break;
    for (const pat of todo) {
      const m = pat.re.exec(line);
      if (m === null) continue;
      todo.delete(pat);
      pat.names.forEach((name, i) => {
        const value = Number(m[i + 1]);
        if (seen.has(name) || !Number.isFinite(value)) return;
        seen.add(name);
        out.push({ name, value, kind: LEVELS.has(name) ? 'level' : 'total' });
      });
    }
  }
  return out;
}
