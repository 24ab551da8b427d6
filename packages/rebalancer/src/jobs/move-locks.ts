/**
 * Which move jobs a live process is running.
 *
 * A mover holds the microshard's move lock (a session advisory lock on the control catalog) for its
 * whole run, and a session that dies releases it. So a job recorded as `running` whose lock nobody
 * holds was interrupted (its process died) and waits for `jobs resume`.
 */
import { ADVISORY_LOCKS, microshardLock } from "@archipelago/topology";
import type pg from "pg";

/** Microshards whose move lock some session holds now, read from the control catalog's server. */
export async function heldMoveLocks(control: pg.Pool): Promise<Set<number>> {
  const [namespace, first] = microshardLock("move", 0);
  const { rows } = await control.query<{ key: string }>(
    `SELECT objid::text AS key FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::bigint::oid
       AND objid::text::bigint BETWEEN $2 AND $2 + 9999
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [namespace, first],
  );
  return new Set(rows.map((r) => Number(r.key) - ADVISORY_LOCKS.microshardMoveBase));
}
