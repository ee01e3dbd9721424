import { LOG_LINE_PREFIX } from '../../capture/server-log.ts';
import type { ResolvedTopologySpec } from '../../topology/spec.ts';
import type { Settings } from './postgres-process.ts';

/**
 * Test-speed defaults. fsync and full_page_writes are off: a SIGKILLed postmaster
 * still loses nothing the kernel has (its page cache survives), only a power cut
 * would, and no test here cuts the power. Replication settings make a killed or
 * frozen standby reconnect within ~50 ms and report its position every second.
 */
export const DEFAULT_SETTINGS: Settings = {
  listen_addresses: '127.0.0.1',
  fsync: false,
  full_page_writes: false,
  wal_level: 'replica',
  hot_standby: true,
  max_wal_senders: 20,
  max_replication_slots: 20,
  wal_keep_size: '512MB',
  wal_retrieve_retry_interval: '50ms',
  wal_receiver_status_interval: '1s',
  // A standby whose link is cut (a partition, a frozen peer) is noticed in 5 s, not 60.
  wal_sender_timeout: '5s',
  wal_receiver_timeout: '5s',
  // auto_explain is loaded on every node but logs nothing until a check turns it on: its
  // log_min_duration stays at its default, -1. It is not set here on purpose: a setting on the
  // command line wins over ALTER SYSTEM, and the query-plans suite turns it on with ALTER SYSTEM
  // and pg_reload_conf() (harness/capture/plan-capture.ts), for the duration of its check only.
  shared_preload_libraries: 'pg_stat_statements,auto_explain',
  max_connections: 200,
  // Dynamic shared memory as files in the data directory (pg_dynshmem/), not POSIX
  // segments in /dev/shm: a SIGKILLed postmaster cannot remove its segments, and files
  // inside the run directory go away with it.
  dynamic_shared_memory_type: 'mmap',
  // %u@%d ties a logged plan to the app's role and database, %Q to its statement
  // (pg_stat_statements.queryid; compute_query_id is on once pg_stat_statements is loaded).
  log_line_prefix: LOG_LINE_PREFIX,
};

export interface NodeSettingsInput {
  spec: ResolvedTopologySpec;
  name: string;
  role: 'primary' | 'replica';
  primaryPort: number;
  socketDir: string;
  replicaNames: string[];
}

export function nodeSettings({ spec, name, role, primaryPort, socketDir, replicaNames }: NodeSettingsInput): Settings {
  const settings: Settings = { ...DEFAULT_SETTINGS, cluster_name: name };
  if (role === 'primary' && spec.synchronous && replicaNames.length > 0) {
    // Every standby must have flushed a commit before it returns: then any of them
    // can be promoted without losing an acknowledged write. The price (a lost
    // standby blocks commits) is the real behaviour of such a setup.
    settings.synchronous_standby_names = `ANY ${replicaNames.length} (${replicaNames.join(', ')})`;
  }
  if (role === 'replica') {
    // Over the primary's Unix socket with peer authentication: no password in any file.
    settings.primary_conninfo = `host=${socketDir} port=${primaryPort} user=dbproof application_name=${name}`;
  }
  return { ...settings, ...spec.postgres.settings };
}
