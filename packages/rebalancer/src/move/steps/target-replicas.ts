import pg from "pg";
import { type MoveContext, onMaster, waitUntil } from "../move-context.js";
import { MoveStateError } from "../move-errors.js";

export async function waitForTargetReplicas(ctx: MoveContext): Promise<void> {
  const [position] = await onMaster<{ lsn: string }>(
    ctx,
    ctx.target,
    "SELECT pg_current_wal_insert_lsn()::text AS lsn",
  );
  const island = ctx.config.islands.find((i) => i.island === ctx.target);
  const master = await ctx.masters.masterNode(ctx.target);
  for (const node of island?.nodes ?? []) {
    if (node.host === master.host && node.port === master.port) continue;
    const client = new pg.Client({
      host: node.host,
      port: node.port,
      user: node.user,
      database: node.database,
      ...(node.password ? { password: node.password.reveal() } : {}),
      connectionTimeoutMillis: 2_000,
      // A replica that goes silent must not hang the activation, and one that drops the connection
      // must not crash the process (an unhandled client error would).
      query_timeout: 5_000,
      keepAlive: true,
    });
    client.on("error", () => {});
    try {
      await client.connect();
    } catch {
      continue; // a replica that is down serves nobody; it replays on its own when it returns
    }
    try {
      await waitUntil(
        ctx,
        async () => {
          const { rows } = await client.query<{ done: boolean }>(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true) AS done",
            [position?.lsn],
          );
          return rows[0]?.done ? true : undefined;
        },
        ctx.options.replicaReplayDeadlineMs,
        () =>
          new MoveStateError(
            ctx.job.id,
            `replica ${node.name} of island ${ctx.target} did not replay the copy within ${ctx.options.replicaReplayDeadlineMs} ms`,
          ),
      );
    } finally {
      await client.end().catch(() => {});
    }
  }
}
