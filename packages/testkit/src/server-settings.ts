/**
 * postgresql.conf settings for test and demo servers.
 *
 * Durability is traded for speed (`fsync=off` and friends): these servers hold throwaway data, and a
 * crash test kills a server process, not the machine, so nothing acknowledged is lost by them. Logical
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
  synchronous_commit: "off",
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
