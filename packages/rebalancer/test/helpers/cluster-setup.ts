/** Set-up steps the rebalancer's real-cluster tests share. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allocateMicroshards, IslandMasters } from "@archipelago/migrate";
import { type ClusterConfig, serializeClusterConfig } from "@archipelago/topology";
import { TEST_MIGRATIONS } from "../../../../test/helpers/cluster-fixture.js";

/**
 * Allocates `count` microshards (with the test migrations) on the given islands only: the others are
 * draining while allocating, so a later rebalance onto them has work to do.
 */
export async function allocateOnlyOn(
  config: ClusterConfig,
  count: number,
  islands: readonly number[],
): Promise<void> {
  const allocating = new IslandMasters({
    ...config,
    islands: config.islands.map((i) => ({ ...i, draining: !islands.includes(i.island) })),
  });
  try {
    await allocateMicroshards(allocating, { count, migrations: TEST_MIGRATIONS });
  } finally {
    await allocating.end();
  }
}

/**
 * The cluster config as a JSON file (passwords included, as the CLI reads it) in a new temporary
 * folder. The caller removes `dir`.
 */
export function writeConfigFile(
  config: ClusterConfig,
  prefix: string,
  mode = 0o600,
): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "cluster.json");
  writeFileSync(path, JSON.stringify(serializeClusterConfig(config, { revealPasswords: true })), {
    mode,
  });
  return { dir, path };
}
