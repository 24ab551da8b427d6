/**
 * Runs the example app on a throwaway local cluster: 2 islands × (master + replica), shard 0 and 8
 * microshards with the app's migrations (`exampleAppMigrations`), then the demo's entity story
 * (writes, reads, where rows landed). `npx tsx --conditions=development examples/app/main.ts`
 */
import { Cluster } from "@archipelago/client";
import { allocateMicroshards, IslandMasters, installCatalog } from "@archipelago/migrate";
import { startLocalCluster } from "@archipelago/testkit";
import { runEntityStory } from "../demo/entity-story.js";
import { exampleAppMigrations } from "./migrations.js";

const local = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
let cluster: Cluster | undefined;
try {
  const migrations = exampleAppMigrations();
  const masters = new IslandMasters(local.config);
  try {
    await installCatalog(masters);
    await allocateMicroshards(masters, { numbers: [0], migrations });
    await allocateMicroshards(masters, { count: 8, migrations });
  } finally {
    await masters.end();
  }
  cluster = new Cluster(local.config);
  await runEntityStory(cluster);
} finally {
  await cluster?.end();
  await local.stop();
}
