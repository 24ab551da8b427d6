import { type MoveContext, onMaster } from "../move-context.js";
import { MoveRefusedError } from "../move-errors.js";
import { tablesWithoutIdentity } from "../schema-facts.js";
import { catalogRow } from "./catalog-row.js";

export async function precheck(ctx: MoveContext): Promise<void> {
  const refuse = (reason: string) => new MoveRefusedError(ctx.microshard, reason);
  if (ctx.microshard === 0) {
    throw refuse("shard 0 holds the global tables and the control catalog; it is not moved");
  }
  if (ctx.source === ctx.target) throw refuse(`it is already on island ${ctx.target}`);
  const targetIsland = ctx.config.islands.find((i) => i.island === ctx.target);
  if (!targetIsland) throw refuse(`island ${ctx.target} is not in the config`);
  if (targetIsland.draining) throw refuse(`island ${ctx.target} is draining`);
  const source = await catalogRow(ctx, ctx.source);
  if (source?.state !== "active") {
    throw refuse(`it is ${source ? source.state : "absent"} on island ${ctx.source}, not active`);
  }
  const target = await catalogRow(ctx, ctx.target);
  const ours = (await ctx.store.objects(ctx.job.id)).some(
    (o) => o.kind === "schema" && o.island === ctx.target,
  );
  if (target && !(target.state === "receiving" && ours)) {
    throw refuse(`island ${ctx.target} already holds a ${target.state} copy; clean it up first`);
  }
  const schemaOnTarget = await onMaster(
    ctx,
    ctx.target,
    "SELECT 1 FROM pg_namespace WHERE nspname = $1",
    [ctx.schema],
  );
  if (schemaOnTarget.length > 0 && !ours) {
    throw refuse(`island ${ctx.target} has a schema ${ctx.schema} that its catalog does not list`);
  }
  const sourcePool = await ctx.masters.pool(ctx.source);
  const client = await sourcePool.connect();
  try {
    const missing = await tablesWithoutIdentity(client, ctx.schema);
    if (missing.length > 0) {
      throw refuse(
        `table(s) ${missing.join(", ")} have no primary key or replica identity, so logical replication ` +
          "cannot carry their updates and deletes; add a primary key",
      );
    }
  } finally {
    client.release();
  }
  const [walLevel] = await onMaster<{ wal_level: string }>(
    ctx,
    ctx.source,
    "SELECT current_setting('wal_level') AS wal_level",
  );
  if (walLevel?.wal_level !== "logical") {
    throw refuse(
      `island ${ctx.source} has wal_level=${walLevel?.wal_level}; logical replication needs wal_level=logical`,
    );
  }
  const version = async (island: number) =>
    Math.floor(
      Number(
        (
          await onMaster<{ v: string }>(
            ctx,
            island,
            "SELECT current_setting('server_version_num') AS v",
          )
        )[0]?.v,
      ) / 10_000,
    );
  const [sv, tv] = await Promise.all([version(ctx.source), version(ctx.target)]);
  if (sv < 15 || tv < 15)
    throw refuse(`PostgreSQL ≥ 15 is needed on both islands (source ${sv}, target ${tv})`);
  ctx.state.generation = source.generation;
}
