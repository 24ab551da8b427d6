/**
 * Replication control in SQL, shared by both backends.
 *
 * "Caught up" means: the replica has replayed past the master's WAL insert position taken when the wait
 * began. A replica is only sent WAL its master has flushed, and the test servers run with
 * `synchronous_commit = off`: a trailing record that is not a commit (a page prune done by a read, say)
 * can sit unflushed until some later commit. So the wait first forces a flush with one tiny synchronous
 * commit, instead of trusting the WAL writer — otherwise a wait could hang until the next checkpoint or
 * standby snapshot. Comparing against `pg_current_wal_flush_lsn()` instead was rejected: an async
 * commit that has just returned may not be flushed yet, and the wait would return before the write.
 */
import pg from "pg";
import type { TestNode } from "../test-cluster.js";
import { quoteLiteral } from "./sql-quote.js";
import { waitFor } from "./wait-for.js";

/** The physical slot a replica streams through, on whichever node is its master. */
export function slotName(node: Pick<TestNode, "island" | "index">): string {
  return `island${node.island}_node${node.index}`;
}

/** The master's WAL insert position, after making sure everything up to it is flushed (see above). */
export async function flushedInsertLsn(master: TestNode): Promise<string> {
  const client = new pg.Client(master.connection());
  await client.connect();
  try {
    const { rows } = await client.query<{ lsn: string }>(
      "SELECT pg_current_wal_insert_lsn()::text AS lsn",
    );
    await client.query("SET synchronous_commit = on");
    // A commit that has an xid writes a commit record and flushes WAL up to it, so up to `lsn` too.
    await client.query("BEGIN");
    await client.query("SELECT pg_current_xact_id()");
    await client.query("COMMIT");
    return rows[0]?.lsn as string;
  } finally {
    await client.end();
  }
}

/** Waits until each running replica whose replay is not paused has replayed the master's writes. */
export async function waitForReplay(
  master: TestNode,
  replicas: readonly TestNode[],
  timeoutMs: number,
): Promise<void> {
  if (master.status !== "running") return;
  const lsn = await flushedInsertLsn(master);
  await Promise.all(
    replicas
      .filter((r) => r.status === "running")
      .map(async (replica) => {
        const [paused] = await replica.query<{ paused: boolean }>(
          "SELECT pg_is_wal_replay_paused() AS paused",
        );
        if (paused?.paused) return;
        await waitFor(
          async () => {
            const [row] = await replica.query<{ caught_up: boolean }>(
              "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught_up",
              [lsn],
            );
            return row?.caught_up === true;
          },
          `${replica.name} to replay up to ${lsn}`,
          timeoutMs,
        );
      }),
  );
}

export async function pauseReplay(replica: TestNode): Promise<void> {
  await replica.query("SELECT pg_wal_replay_pause()");
  await waitFor(async () => {
    const [row] = await replica.query<{ state: string }>(
      "SELECT pg_get_wal_replay_pause_state() AS state",
    );
    return row?.state === "paused";
  }, `${replica.name} to pause replay`);
}

export async function resumeReplay(replica: TestNode): Promise<void> {
  await replica.query("SELECT pg_wal_replay_resume()");
}

/** Waits until a node that was asked to promote accepts writes. */
export async function waitUntilPromoted(node: TestNode, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await node.query<{ recovering: boolean }>(
        "SELECT pg_is_in_recovery() AS recovering",
      );
      return row?.recovering === false;
    },
    `${node.name} to leave recovery`,
    timeoutMs,
  );
}

/**
 * Points a replica at a new master: a slot for it there first (slots are not replicated, so the
 * promoted node has none), then `primary_conninfo`, which PostgreSQL ≥ 13 applies on reload.
 */
export async function followMaster(
  replica: TestNode,
  master: TestNode,
  primaryConninfo: string,
): Promise<void> {
  await master.query(
    "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)",
    [slotName(replica)],
  );
  await replica.query(`ALTER SYSTEM SET primary_conninfo = ${quoteLiteral(primaryConninfo)}`);
  await replica.query(`ALTER SYSTEM SET primary_slot_name = ${quoteLiteral(slotName(replica))}`);
  await replica.query("SELECT pg_reload_conf()");
}

/** Whether the server answers queries right now (start-up and shutdown both refuse connections). */
export async function acceptsConnections(node: TestNode): Promise<boolean> {
  try {
    await node.query("SELECT 1");
    return true;
  } catch {
    return false;
  }
}
