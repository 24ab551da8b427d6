/**
 * Which move jobs a live process is running, and holding a job's lock while cleaning it up.
 *
 * A mover holds the microshard's move lock (a session advisory lock on the control catalog) for its
 * whole run, and a session that dies releases it. So a job recorded as `running` whose lock nobody
 * holds was interrupted (its process died) and waits for `jobs resume`.
 */
import { ADVISORY_LOCKS, microshardLock } from "@archipelago/topology";
import type { CliSession } from "./cli-session.js";

/** Microshards whose move lock some session holds now. */
export async function heldMoveLocks(session: CliSession): Promise<Set<number>> {
  const pool = await session.masters.pool(session.config.globalIsland);
  const [namespace] = microshardLock("move", 0);
  const { rows } = await pool.query<{ key: string }>(
    `SELECT objid::text AS key FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::bigint::oid
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [namespace],
  );
  return new Set(rows.map((r) => Number(r.key) - ADVISORY_LOCKS.microshardMoveBase));
}
