/**
 * The Archipelago demo: a real local cluster, from nothing to IDs in microshards, and back to nothing.
 *
 * 1. start 2 islands × (1 master + 1 streaming replica) on loopback;
 * 2. install the catalog on every island master;
 * 3. allocate shard 0 and 16 microshards, each created with every example migration applied;
 * 4. run the migration runner (everything is current: it applies nothing);
 * 5. write rows whose IDs come from each microshard's own generator, and decode them;
 * 6. print islands, nodes and roles, and microshards per island; tear everything down.
 */
import { join } from "node:path";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  loadMigrations,
  migrationProgressReporter,
  readCatalogs,
  runMigrations,
} from "@archipelago/migrate";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { microshardSchema, parseId } from "@archipelago/topology";

const migrations = loadMigrations(join(import.meta.dirname, "../migrations"));

function figure(name: string, value: number | string, unit: string): void {
  console.log(`figure ${name} ${value} ${unit}`);
}

async function main(): Promise<void> {
  console.log("Starting a local cluster: 2 islands × (1 master + 1 replica)…");
  const startedAt = performance.now();
  const cluster = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  const startSeconds = (performance.now() - startedAt) / 1000;
  console.log(`  started in ${startSeconds.toFixed(2)} s`);
  figure("demo_cluster_start_s", startSeconds.toFixed(2), "s");
  const masters = new IslandMasters(cluster.config);
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
    await printStatus(cluster, masters);
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

async function printStatus(cluster: LocalCluster, masters: IslandMasters): Promise<void> {
  const rows = await readCatalogs(masters);
  console.log("\nCluster status:");
  for (const island of cluster.islands) {
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

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
