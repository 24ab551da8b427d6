/**
 * The Archipelago demo: a real local cluster, from nothing to IDs in microshards, and back to nothing.
 *
 * 1. start 2 islands × (1 master + 1 streaming replica) on loopback;
 * 2. install the catalog on every island master;
 * 3. allocate shard 0 and 16 microshards, each created with every example migration applied;
 * 4. run the migration runner (everything is current: it applies nothing);
 * 5. write rows whose IDs come from each microshard's own generator, and decode them;
 * 6. print islands, nodes and roles, and microshards per island;
 * 7. a live failover: an app writes through the client while island 1's master stops and its replica
 *    is promoted; the writes ride through with no error, and every acknowledged one is read back;
 * 8. a live move: microshard 1 moves from island 2 to island 1 while the app writes to it; the write
 *    block is measured, nothing is lost, the app sees no error;
 * 9. tear everything down.
 */
import { join } from "node:path";
import { Cluster } from "@archipelago/client";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  loadMigrations,
  migrationProgressReporter,
  readCatalogs,
  runMigrations,
} from "@archipelago/migrate";
import { type JobRecord, Manager, Mover, watchParentJob } from "@archipelago/rebalancer";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { type ClusterConfig, microshardSchema, parseId } from "@archipelago/topology";
import { startDemoWriter } from "./demo-writer.js";
import { runEntityStory } from "./entity-story.js";

const migrations = loadMigrations(join(import.meta.dirname, "../migrations"));

function figure(name: string, value: number | string, unit: string): void {
  console.log(`figure ${name} ${value} ${unit}`);
}

async function main(): Promise<void> {
  console.log(
    "Starting a local cluster: 3 islands × (1 master + 1 replica); the app uses islands 1 and 2…",
  );
  const startedAt = performance.now();
  const cluster = await startLocalCluster({ islands: 3, replicasPerIsland: 1 });
  // Island 3 is running but not in the app's config yet: it joins the cluster later in the story.
  const twoIslands: ClusterConfig = {
    ...cluster.config,
    islands: cluster.config.islands.filter((i) => i.island !== 3),
  };
  const startSeconds = (performance.now() - startedAt) / 1000;
  console.log(`  started in ${startSeconds.toFixed(2)} s`);
  figure("demo_cluster_start_s", startSeconds.toFixed(2), "s");
  const masters = new IslandMasters(twoIslands);
  try {
    const installed = await installCatalog(masters);
    console.log(
      `Catalog installed: ${installed.map((r) => `island ${r.island} v${r.toVersion}`).join(", ")}`,
    );

    const global = await allocateMicroshards(masters, { numbers: [0], migrations });
    const sharded = await allocateMicroshards(masters, { count: 16, migrations });
    console.log(
      `Allocated shard 0 and ${sharded.allocated.length} microshards ` +
        `(cluster map epoch ${global.clusterMap.epoch} → ${sharded.clusterMap.epoch})`,
    );

    const progress = migrationProgressReporter(process.stdout);
    const report = await runMigrations(masters, { migrations, onProgress: progress.onProgress });
    progress.stop();
    console.log(
      `Migrations: ${migrations.length} files, ${report.schemas} schemas, ${report.applied} versions applied ` +
        "(allocation already applied them all)",
    );

    await writeSampleRows(cluster);
    // The example app (examples/app): entities defined in code, routed by the IDs, shard 0 read
    // transparently; its rows ride along through the failover, the move and the rebalance below.
    console.log("\nThe example app's entities, written and read through @archipelago/ent:");
    const app = new Cluster(twoIslands);
    try {
      await runEntityStory(app, { log: (line) => console.log(`  ${line}`) });
    } finally {
      await app.end();
    }
    await printStatus(cluster, masters, twoIslands);
    await failoverLive(cluster, twoIslands);
    // A fresh admin connection set: the one above still points at island 1's stopped master.
    const afterFailover = new IslandMasters(twoIslands);
    try {
      await moveLive(afterFailover, twoIslands);
    } finally {
      await afterFailover.end();
    }
    await addIslandAndRebalance(cluster, twoIslands);
  } finally {
    await masters.end();
    await cluster.stop();
    console.log("Cluster stopped and removed.");
  }
}

async function writeSampleRows(cluster: LocalCluster): Promise<void> {
  console.log("\nIDs generated inside their microshards:");
  const [workspace] = await cluster
    .master(cluster.config.globalIsland)
    .query<{ id: string }>(
      "INSERT INTO sh0000.workspaces (slug, name) VALUES ('acme', 'Acme') RETURNING id::text",
    );
  const workspaceId = workspace?.id ?? "";
  console.log(`  workspace ${workspaceId} → shard ${parseId(workspaceId).microshard} (global)`);
  const masters = new Map<number, number>();
  for (const row of await cluster
    .master(1)
    .query<{ microshard: number; island: number }>(
      "SELECT microshard, island FROM archipelago.cluster_map_active ORDER BY microshard",
    )) {
    masters.set(row.microshard, row.island);
  }
  for (const microshard of [1, 2, 7, 12, 16]) {
    const island = masters.get(microshard) ?? 0;
    const schema = microshardSchema(microshard);
    const [user] = await cluster
      .master(island)
      .query<{ id: string }>(
        `INSERT INTO ${schema}.users (workspace_id, email, name) VALUES ($1, $2, $3) RETURNING id::text`,
        [workspaceId, `user${microshard}@acme.test`, `User ${microshard}`],
      );
    const id = parseId(user?.id);
    console.log(
      `  user ${id.id} → microshard ${id.microshard} (island ${island}), sequence ${id.sequence}`,
    );
  }
}

async function printStatus(
  cluster: LocalCluster,
  masters: IslandMasters,
  config: ClusterConfig,
): Promise<void> {
  const rows = await readCatalogs(masters);
  console.log("\nCluster status:");
  for (const island of cluster.islands.filter((i) =>
    config.islands.some((c) => c.island === i.island),
  )) {
    console.log(
      `  island ${island.island}${island.island === cluster.config.globalIsland ? " (global: shard 0)" : ""}`,
    );
    for (const node of island.nodes) {
      const [role] = await node.query<{ recovering: boolean }>(
        "SELECT pg_is_in_recovery() AS recovering",
      );
      console.log(
        `    ${node.name.padEnd(15)} 127.0.0.1:${node.port}  ${role?.recovering ? "replica" : "master"}`,
      );
    }
    const here = rows
      .filter((r) => r.island === island.island && r.state === "active")
      .map((r) => r.schemaName);
    console.log(`    ${here.length} microshards: ${here.join(" ")}`);
  }
}

async function failoverLive(local: LocalCluster, config: ClusterConfig): Promise<void> {
  const island = 1;
  const client = new Cluster(config);
  try {
    await client.rediscover();
    const microshard = client.map.microshardsOn(island).find((m) => m !== 0) ?? 0;
    const shard = client.shard(microshard);
    console.log(`\nLive failover of island ${island} while an app writes to ${shard.schema}:`);
    client.events.on("role-change", (e) =>
      console.log(`  [client] ${e.node} is now ${e.to} (was ${e.from})`),
    );
    const app = startDemoWriter(client, "failover", [microshard]);
    await sleep(500);
    const oldMaster = local.master(island);
    const replica = local.replicas(island)[0];
    if (!replica) throw new Error("island 1 has no replica");
    console.log(`  ${app.acknowledged} writes so far; stopping the master ${oldMaster.name}…`);
    await local.stopNode(oldMaster);
    await sleep(300);
    console.log(`  promoting ${replica.name}…`);
    await local.promote(replica);
    const atPromotion = app.acknowledged;
    while (app.acknowledged < atPromotion + 200) await sleep(20);
    await app.stop();
    const lost = await app.lost();
    console.log(
      `  ${app.acknowledged} writes acknowledged, ${app.errors} failed, ${lost} lost; the slowest write ` +
        `(the one that waited out the failover) took ${Math.round(app.slowestMs)} ms`,
    );
    figure("demo_failover_write_errors", app.errors, "count");
    figure("demo_failover_rows_lost", lost, "count");
    figure("demo_failover_slowest_write_ms", Math.round(app.slowestMs), "ms");
  } finally {
    await client.end();
  }
}

async function moveLive(masters: IslandMasters, config: ClusterConfig): Promise<void> {
  const client = new Cluster(config);
  try {
    await client.rediscover();
    const microshard = 1;
    const before = client.map.locate(microshard);
    if (before.kind !== "active") throw new Error("microshard 1 is not active");
    const target = before.island === 1 ? 2 : 1;
    const shard = client.shard(microshard);
    console.log(
      `\nLive move of ${shard.schema} from island ${before.island} to island ${target} while an app writes to it:`,
    );
    const app = startDemoWriter(client, "mover", [microshard]);
    const mover = new Mover({
      config,
      masters,
      options: { verify: true },
      onProgress: (p) => {
        if (p.step !== "catch-up" && p.step !== "initial-copy")
          console.log(`  [mover] ${p.step}: ${p.detail}`);
      },
      beforeStep: async (step) => console.log(`  [mover] step ${step}`),
    });
    let job: Awaited<ReturnType<Mover["move"]>>;
    try {
      await sleep(300);
      job = await mover.move(microshard, target);
      await sleep(300);
    } finally {
      await app.stop();
    }
    const lost = await app.lost();
    console.log(
      `  job ${job.id} ${job.state}: ${app.acknowledged} writes acknowledged during the move, ${app.errors} failed, ` +
        `${lost} lost; write block ${Math.round(job.writeBlockMs ?? 0)} ms`,
    );
    await mover.cleanup(job.id);
    figure("demo_move_write_block_ms", Math.round(job.writeBlockMs ?? 0), "ms");
    figure("demo_move_app_errors", app.errors, "count");
    figure("demo_move_rows_lost", lost, "count");
  } finally {
    await client.end();
  }
}

/**
 * The whole story's last act: island 3 joins (catalog installed, added to the app's config at run
 * time), the shard manager notices and rebalances onto it (its moves two at a time) while the app keeps
 * writing to every microshard. Then: moves done, each move's write block, app errors, rows lost.
 */
async function addIslandAndRebalance(
  local: LocalCluster,
  twoIslands: ClusterConfig,
): Promise<void> {
  const threeIslands = local.config;
  const masters = new IslandMasters(threeIslands);
  const client = new Cluster(twoIslands);
  try {
    console.log("\nIsland 3 joins the cluster; the shard manager rebalances while the app writes:");
    await installCatalog(masters);
    await client.rediscover();
    const microshards = client.map.microshards().filter((m) => m !== 0);
    const app = startDemoWriter(client, "rebalance", microshards);
    let moves: JobRecord[] = [];
    try {
      await client.updateConfig(threeIslands);
      moves = await rebalanceWithManager(threeIslands, masters);
      await sleep(300);
    } finally {
      await app.stop();
    }
    const lost = await app.lost();
    const done = moves.filter((m) => m.state === "completed");
    const blocks = done.map((m) => m.writeBlockMs ?? 0);
    console.log(
      `  ${done.length} moves done (${moves.length - done.length} not); ${app.acknowledged} writes acknowledged, ` +
        `${app.errors} app errors, ${lost} rows lost; island 3 now holds ${client.map.microshardsOn(3).length} microshards`,
    );
    figure("demo_moves", done.length, "count");
    figure("demo_app_errors", app.errors, "count");
    figure("demo_rows_lost", lost, "count");
    figure("demo_write_block_max_ms", Math.round(Math.max(0, ...blocks)), "ms");
  } finally {
    await client.end();
    await masters.end();
  }
}

/**
 * The shard manager, embedded here as an app would embed it, in automatic mode: it measures the
 * cluster, sees island 3 empty and the others over their share, and starts a rebalance job on its own;
 * its moves run two at a time (one per island). Returns the rebalance's moves once it has ended.
 */
async function rebalanceWithManager(
  config: ClusterConfig,
  masters: IslandMasters,
): Promise<JobRecord[]> {
  let jobId: number | undefined;
  const manager = new Manager({
    config,
    masters,
    options: {
      mode: "automatic",
      tickMs: 250,
      measureEveryMs: 500,
      auto: { threshold: 0.2, startAbove: 0.3, confirmations: 2, cooldownMs: 60_000 },
    },
    onEvent: (event) => {
      if (event.type === "auto") {
        jobId = event.jobId ?? undefined;
        console.log(
          `  manager: ${event.decision.reason} → ${event.decision.action} (job ${jobId})`,
        );
      } else if (event.type === "job-ended" && event.job === "move" && !process.stderr.isTTY) {
        console.log(
          `  manager: move job ${event.jobId} ${event.outcome}` +
            (event.writeBlockMs === undefined
              ? ""
              : `, write block ${Math.round(event.writeBlockMs)} ms`),
        );
      }
    },
  }).start();
  try {
    while (jobId === undefined) await sleep(100);
    const store = await manager.control.store();
    const parent = (await store.get(jobId)) as JobRecord;
    const plan = parent.checkpoint.plan as {
      moves: number;
      imbalanceBefore: number;
      imbalanceAfter: number;
    };
    console.log(
      `  plan: ${plan.moves} moves, imbalance ${plan.imbalanceBefore.toFixed(2)} → ${plan.imbalanceAfter.toFixed(2)}`,
    );
    const bars = watchParentJob(store, jobId, process.stderr, { enabled: process.stderr.isTTY });
    const ended = await manager.waitFor(jobId);
    await bars.stop();
    console.log(`  rebalance job ${ended.id} ${ended.state}: ${ended.stateReason ?? ""}`);
    const moves = await store.children(jobId);
    for (const m of moves) {
      console.log(
        `  microshard ${m.microshard}: island ${m.sourceIsland} → ${m.targetIsland}, ${m.state}, write block ${Math.round(m.writeBlockMs ?? 0)} ms`,
      );
    }
    return moves;
  } finally {
    await manager.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
