/**
 * What goes into the containers of a container cluster: server settings as `-c` flags, the init
 * script that opens replication connections on masters, and the replica entrypoint.
 *
 * Secrets travel as files copied into the container (`POSTGRES_PASSWORD_FILE`, a libpq passfile), never
 * as environment variables (`docker inspect` shows those) or arguments (`ps` shows those).
 */
import { FAST_TEST_SETTINGS } from "../server-settings.js";

export const PASSWORD_FILE = "/run/archipelago/password";
/** Copied as root; the entrypoint installs it for the postgres user (libpq wants it 0600 and readable). */
export const PASSFILE_SOURCE = "/run/archipelago/pgpass";
export const PASSFILE = "/var/lib/postgresql/.pgpass";
export const REPLICATION_INIT_SCRIPT = "/docker-entrypoint-initdb.d/10-archipelago-replication.sh";

/**
 * The same settings as local servers, except where a container differs: it must listen on its network
 * interface, and the image's entrypoint talks to its temporary init server through the Unix socket.
 */
export function containerSettingsArgs(
  extra: Readonly<Record<string, string | number>> = {},
): string[] {
  const settings: Record<string, string | number> = {
    ...FAST_TEST_SETTINGS,
    listen_addresses: "'*'",
    unix_socket_directories: "'/var/run/postgresql'",
    ...extra,
  };
  // postgresql.conf syntax quotes strings; on the command line the whole flag is one argument already.
  return Object.entries(settings).flatMap(([key, value]) => [
    "-c",
    `${key}=${String(value).replace(/^'(.*)'$/s, "$1")}`,
  ]);
}

/** Run once by the image's entrypoint after initdb: the default pg_hba.conf only allows local replication. */
export const REPLICATION_INIT_SCRIPT_BODY = `#!/usr/bin/env bash
set -euo pipefail
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
`;

/**
 * A replica's entrypoint: clone the master once (an empty volume), then run the server as PID 1. On a
 * later \`docker start\` the data is there and the server just starts. Parameters come as environment
 * variables (none of them secret); the settings come as arguments, like the masters'.
 */
export const REPLICA_ENTRYPOINT_SCRIPT = `set -euo pipefail
install -o postgres -g postgres -m 0600 "${PASSFILE_SOURCE}" "${PASSFILE}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  gosu postgres pg_basebackup --pgdata "$PGDATA" --host "$ARCHIPELAGO_MASTER_HOST" --port 5432 \\
    --username "$ARCHIPELAGO_USER" --no-password --write-recovery-conf --wal-method=stream \\
    --checkpoint=fast --create-slot --slot "$ARCHIPELAGO_SLOT"
fi
exec gosu postgres postgres "$@"
`;
