// One row of SHOW ALL SLAVES STATUS (MariaDB), SHOW REPLICA STATUS (MySQL 8.0.22+) or SHOW
// SLAVE STATUS as figures under Diamond's names (MySQL 8's Source/Replica columns are published
// under their Master/Slave names, so one dashboard serves both). The thread states are 1 for
// `Yes` and 0 otherwise (`No`, `Connecting`, `Preparing`): Diamond drops them. A lag of NULL
// (a thread stopped) publishes nothing rather than a 0 that would read as "in sync".
import { statusNumber } from './status.js';

export type FigureKind = 'level' | 'total';

export interface ReplicationFigure {
  readonly name: string;
  readonly value: number;
  readonly kind: FigureKind;
}

export interface ReplicationConnection {
  /** '' for the default (unnamed) connection or channel. */
  readonly connection: string;
  readonly figures: ReplicationFigure[];
}

/** MySQL 8's column names, as Diamond's (and MariaDB's) names them. */
const OLD_NAME: Record<string, string> = {
  Seconds_Behind_Source: 'Seconds_Behind_Master',
  Replica_IO_Running: 'Slave_IO_Running',
  Replica_SQL_Running: 'Slave_SQL_Running',
  Read_Source_Log_Pos: 'Read_Master_Log_Pos',
  Exec_Source_Log_Pos: 'Exec_Master_Log_Pos',
};

const THREADS = new Set(['Slave_IO_Running', 'Slave_SQL_Running']);

/** Levels: lag, error numbers, positions in the logs, delays. */
const LEVELS = new Set([
  'Seconds_Behind_Master',
  'Last_Errno',
  'Last_IO_Errno',
  'Last_SQL_Errno',
  'Read_Master_Log_Pos',
  'Exec_Master_Log_Pos',
  'Relay_Log_Pos',
  'Relay_Log_Space',
  'Skip_Counter',
  'SQL_Delay',
  'SQL_Remaining_Delay',
]);

/** MariaDB's running totals of a connection. */
const TOTALS = new Set(['Retried_transactions', 'Executed_log_entries', 'Slave_received_heartbeats', 'Slave_DDL_Groups', 'Slave_Non_Transactional_Groups', 'Slave_Transactional_Groups']);

/** The figures of one replication row; `columns` are the result's column names. */
export function replicationRow(columns: readonly string[], row: readonly unknown[]): ReplicationConnection {
  let connection = '';
  const figures: ReplicationFigure[] = [];
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const raw = row[i];
    if (column === 'Connection_name' || column === 'Channel_Name' || column === 'Channel_name') {
      connection = typeof raw === 'string' ? raw : '';
      continue;
    }
    const name = OLD_NAME[column] ?? column;
    if (THREADS.has(name)) {
      figures.push({ name, value: raw === 'Yes' ? 1 : 0, kind: 'level' });
      continue;
    }
    const kind: FigureKind | undefined = LEVELS.has(name) ? 'level' : TOTALS.has(name) ? 'total' : undefined;
    if (kind === undefined) continue;
    const value = statusNumber(raw);
    if (value !== undefined) figures.push({ name, value, kind });
  }
  return { connection, figures };
}
