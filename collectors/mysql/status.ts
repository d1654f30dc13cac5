// Which SHOW GLOBAL STATUS variables are levels (published as they are) and which are running
// totals (published as per-second rates), and how a status value becomes a number. Names are
// the server's own; the lists cover MariaDB 10.x/11.x and MySQL 5.7/8.x. A variable named in
// neither list is taken for a running total, as Diamond takes it.

/** Levels by exact name, lower case. */
const LEVELS = new Set([
  'aria_pagecache_blocks_not_flushed',
  'aria_pagecache_blocks_unused',
  'aria_pagecache_blocks_used',
  'binlog_snapshot_position',
  'deprecated_use_i_s_processlist_last_timestamp',
  'delayed_insert_threads',
  'error_log_buffered_bytes',
  'error_log_buffered_events',
  'error_log_latest_write',
  'global_connection_memory',
  'innodb_available_undo_logs',
  'innodb_buffer_pool_bytes_data',
  'innodb_buffer_pool_bytes_dirty',
  'innodb_buffer_pool_load_incomplete',
  'innodb_buffer_pool_pages_data',
  'innodb_buffer_pool_pages_dirty',
  'innodb_buffer_pool_pages_free',
  'innodb_buffer_pool_pages_latched',
  'innodb_buffer_pool_pages_misc',
  'innodb_buffer_pool_pages_old',
  'innodb_buffer_pool_pages_total',
  'innodb_buffer_pool_resize_status_code',
  'innodb_buffer_pool_resize_status_progress',
  'innodb_checkpoint_age',
  'innodb_checkpoint_max_age',
  'innodb_encryption_rotation_estimated_iops',
  'innodb_history_list_length',
  'innodb_ibuf_free_list',
  'innodb_ibuf_segment_size',
  'innodb_ibuf_size',
  // Log sequence numbers and transaction ids are positions, as *_Log_Pos are.
  'innodb_lsn_current',
  'innodb_lsn_flushed',
  'innodb_lsn_last_checkpoint',
  'innodb_max_trx_id',
  'innodb_mem_adaptive_hash',
  'innodb_mem_dictionary',
  'innodb_mem_total',
  'innodb_num_open_files',
  'innodb_onlineddl_pct_progress',
  'innodb_onlineddl_rowlog_pct_used',
  'innodb_onlineddl_rowlog_rows',
  'innodb_page_size',
  'innodb_row_lock_current_waits',
  'innodb_undo_tablespaces_active',
  'innodb_undo_tablespaces_explicit',
  'innodb_undo_tablespaces_implicit',
  'innodb_undo_tablespaces_total',
  'key_blocks_not_flushed',
  'key_blocks_unused',
  'key_blocks_used',
  'key_blocks_warm',
  'last_query_cost',
  'max_memory_used',
  'max_used_connections',
  'memory_used',
  'memory_used_initial',
  'mysqlx_connections_active',
  'mysqlx_port',
  'mysqlx_ssl_ctx_verify_depth',
  'mysqlx_ssl_ctx_verify_mode',
  'mysqlx_ssl_verify_depth',
  'mysqlx_ssl_verify_mode',
  'mysqlx_worker_threads',
  'mysqlx_worker_threads_active',
  'not_flushed_delayed_rows',
  'ongoing_anonymous_gtid_violating_transaction_count',
  'ongoing_anonymous_transaction_count',
  'ongoing_automatic_gtid_violating_transaction_count',
  'performance_schema_session_connect_attrs_longest_seen',
  'prepared_stmt_count',
  'qcache_free_blocks',
  'qcache_free_memory',
  'qcache_queries_in_cache',
  'qcache_total_blocks',
  'replica_open_temp_tables',
  'resource_group_supported',
  'rpl_semi_sync_master_clients',
  'rpl_semi_sync_master_status',
  'rpl_semi_sync_master_wait_sessions',
  'rpl_semi_sync_replica_status',
  'rpl_semi_sync_slave_status',
  'rpl_semi_sync_source_clients',
  'rpl_semi_sync_source_status',
  'rpl_semi_sync_source_wait_sessions',
  'slave_heartbeat_period',
  'slave_open_temp_tables',
  'slave_running',
  'slaves_connected',
  'slaves_running',
  'ssl_ctx_verify_depth',
  'ssl_ctx_verify_mode',
  'ssl_default_timeout',
  'ssl_session_cache_size',
  'ssl_used_session_cache_entries',
  'ssl_verify_depth',
  'ssl_verify_mode',
  'stack_usage',
  'table_open_cache_active_instances',
  'tc_log_max_pages_used',
  'tc_log_page_size',
  'threadpool_idle_threads',
  'threadpool_threads',
  'threads_cached',
  'threads_connected',
  'threads_running',
  'uptime',
  'uptime_since_flush_status',
]);

/** Galera's (wsrep_*) running totals; its other figures are levels (queue lengths, sizes, states). */
const WSREP_TOTALS = new Set([
  'wsrep_flow_control_paused_ns',
  'wsrep_flow_control_recv',
  'wsrep_flow_control_requested',
  'wsrep_flow_control_sent',
  'wsrep_local_bf_aborts',
  'wsrep_local_cert_failures',
  'wsrep_local_commits',
  'wsrep_local_replays',
  'wsrep_received',
  'wsrep_received_bytes',
  'wsrep_repl_data_bytes',
  'wsrep_repl_keys',
  'wsrep_repl_keys_bytes',
  'wsrep_repl_other_bytes',
  'wsrep_replicated',
  'wsrep_replicated_bytes',
]);

/**
 * True when `name` is a level: a count of what exists now (connections, open tables, free pages),
 * a size, a position, a setting or a state. False for a running total since the server started.
 */
export function isLevel(name: string): boolean {
  const n = name.toLowerCase();
  if (LEVELS.has(n)) return true;
  if (n.startsWith('wsrep')) return !WSREP_TOTALS.has(n);
  // Grant counts, open things (not Opened_*, their totals), pending I/O, redo log sizes and positions.
  if (n.startsWith('acl_') || n.startsWith('open_') || n.includes('_pending_') || n.startsWith('innodb_redo_log_')) return true;
  // Averages, highs and lows the server keeps: Innodb_row_lock_time_avg, Rpl_semi_sync_*_avg_wait_time.
  return n.endsWith('_avg') || n.endsWith('_max') || n.endsWith('_min') || n.includes('_avg_');
}

/**
 * A status value as a number: digits as they are, ON/YES as 1 and OFF/NO as 0 (the states
 * operators alert on); undefined for text (Ssl_cipher, Rpl_status), empty values and NULL.
 */
export function statusNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string' || raw.length === 0) return undefined;
  const c = raw.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 /* - */ || c === 46 /* . */) {
    const v = Number(raw);
    return Number.isFinite(v) ? v : undefined;
  }
  if (raw.length > 3) return undefined;
  switch (raw.toUpperCase()) {
    case 'ON':
    case 'YES':
      return 1;
    case 'OFF':
    case 'NO':
      return 0;
    default:
      return undefined;
  }
}
