import { join } from "node:path";
import { Cluster } from "@archipelago/client";
import {
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  loadMigrations,
} from "@archipelago/migrate";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runEntityStory } from "../examples/demo/entity-story.js";

let local: LocalCluster;
let cluster: Cluster;

beforeAll(async () => {
  local = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  // Allocated as the demo does, with examples/migrations only: the story deploys the app's own.
  const migrations = loadMigrations(join(import.meta.dirname, "../examples/migrations"));
  const masters = new IslandMasters(local.config);
  try {
    await installCatalog(masters);
    await allocateMicroshards(masters, { numbers: [0], migrations });
    await allocateMicroshards(masters, { count: 8, migrations });
  } finally {
    await masters.end();
  }
  await local.waitForReplication();
  cluster = new Cluster(local.config, { discoveryIntervalMs: 60_000 });
});

afterAll(async () => {
  await cluster?.end();
  await local?.stop();
});

it("the demo's entity story writes the example app's rows across microshards and reads them back", async () => {
  const lines: string[] = [];
  const report = await runEntityStory(cluster, {
    workspaces: 12,
    usersPerWorkspace: 4,
    topicsPerWorkspace: 5,
    comments: 300,
    log: (line) => lines.push(line),
  });
  expect(report.rows).toEqual({ plans: 3, workspaces: 12, users: 48, topics: 60, comments: 300 });
  expect(report.colocated).toBe(true);
  expect(report.privacyDenied).toBe(true);
  // Rows on both islands; the plans (shard 0) on the global island.
  expect(report.islands.map((i) => i.island)).toEqual([1, 2]);
  const globalIsland = report.islands.find((i) => i.microshards.includes(0));
  expect(globalIsland?.rows.plans).toBe(3);
  const written = report.islands.reduce((n, i) => n + i.rows.comments, 0);
  expect(written).toBe(300);
  // The inverse sends the author's select only to microshards that hold the author's comments (and
  // the one holding the inverse rows), never to all of them.
  const a = report.authorComments;
  expect(a.found).toBeGreaterThan(0);
  expect(a.visited).toBeLessThanOrEqual(a.microshards + 1);
  expect(lines.join("\n")).toContain("where the rows landed");
  // 2 versions in shard 0 (plans, ent_inverses) + 3 in each of 8 microshards.
  expect(lines).toContain("  deployed the app's migrations: 26 versions applied over 9 schemas");
});
