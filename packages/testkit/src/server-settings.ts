/**
 * postgresql.conf settings for test and demo servers.
 *
 * Durability against a machine crash is traded for speed (`fsync=off`, `full_page_writes=off`): these
 * servers hold throwaway data, and a crash test kills a server process, not the machine, so whatever
 * reached the kernel survives it. `synchronous_commit` stays `on`, though: with it off, a commit is
 * acknowledged while its WAL is still in shared memory, and an immediate shutdown (`killNode`) loses
 * it — a crash test would then report lost acknowledged writes that the code under test never lost.
 * With `fsync=off` a synchronous commit costs one write(2), not a disk flush. Logical
 * replication is on everywhere because moves use it; replicas get slots so that a paused or stopped
 * replica keeps the WAL it needs.
 */
export const FAST_TEST_SETTINGS: Readonly<Record<string, string | number>> = {
  listen_addresses: "'127.0.0.1'",
  // TCP only: no socket file whose path length or permissions could bite.
  unix_socket_directories: "''",
  max_connections: 200,
  shared_buffers: "'32MB'",
  fsync: "off",
  synchronous_commit: "on",
  full_page_writes: "off",
  wal_level: "logical",
  max_wal_senders: 20,
  max_replication_slots: 20,
  max_logical_replication_workers: 8,
  max_worker_processes: 24,
  wal_keep_size: "'256MB'",
  hot_standby: "on",
  hot_standby_feedback: "on",
  wal_receiver_status_interval: "'1s'",
  // A replica whose master restarted or changed retries after this long (default 5 s, which made
  // every crash or failover test wait 5 s for replication to resume).
  wal_retrieve_retry_interval: "'100ms'",
  checkpoint_timeout: "'30min'",
  log_min_messages: "warning",
  log_line_prefix: "'%m [%p] %q%u@%d '",
  lc_messages: "'C'",
  timezone: "'UTC'",
};

export function renderSettings(settings: Readonly<Record<string, string | number>>): string {
  return `${Object.entries(settings)
    .map(([key, value]) => `${key} = ${value}`)
    .join("\n")}\n`;
}
