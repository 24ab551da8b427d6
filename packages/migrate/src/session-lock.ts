import type { AdvisoryLockKey } from "@archipelago/topology";
import type pg from "pg";

/**
 * Takes a session-level advisory lock, waiting at most `timeoutMs`; `busy()` builds the error thrown
 * when the wait times out. Session-level, so it spans the transactions run on this connection.
 */
export async function acquireSessionLock(
  client: pg.ClientBase,
  [namespace, key]: AdvisoryLockKey,
  options: { shared: boolean; timeoutMs: number; busy: () => Error },
): Promise<void> {
  const fn = options.shared ? "pg_advisory_lock_shared" : "pg_advisory_lock";
  await client.query(`SET lock_timeout TO '${Math.max(1, Math.round(options.timeoutMs))}ms'`);
  try {
    await client.query(`SELECT ${fn}($1::int, $2::int)`, [namespace, key]);
  } catch (error) {
    // 55P03 lock_not_available: lock_timeout expired.
    if ((error as { code?: string }).code === "55P03") throw options.busy();
    throw error;
  } finally {
    await client.query("RESET lock_timeout").catch(() => {});
  }
}

export async function releaseSessionLock(
  client: pg.ClientBase,
  [namespace, key]: AdvisoryLockKey,
  options: { shared: boolean },
): Promise<void> {
  const fn = options.shared ? "pg_advisory_unlock_shared" : "pg_advisory_unlock";
  await client.query(`SELECT ${fn}($1::int, $2::int)`, [namespace, key]);
}

/**
 * Runs `work` holding a session lock. If anything fails, including the unlock, the error propagates and
 * the caller must discard the connection (`IslandMasters.withClient` does), so that a lock can never
 * stay behind on a pooled session.
 */
export async function withSessionLock<T>(
  client: pg.ClientBase,
  key: AdvisoryLockKey,
  options: { shared: boolean; timeoutMs: number; busy: () => Error },
  work: () => Promise<T>,
): Promise<T> {
  await acquireSessionLock(client, key, options);
  const result = await work();
  await releaseSessionLock(client, key, options);
  return result;
}
