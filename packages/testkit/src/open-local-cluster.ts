/**
 * Reopens a persistent cluster from its folder, in another process than the one that started it (the
 * CLI's `status`/`psql`, an app's test setup).
 *
 * Nothing is kept in memory between processes, so each node's state is read from the folder:
 * `running` when its postmaster.pid names a live process, `replica` while `standby.signal` exists
 * (promotion removes it, so a promoted node reads as master even when stopped). Credentials come from
 * `cluster-config.json`, the layout from the manifest.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { NodeConfig } from "@archipelago/topology";
import { MANIFEST_FILE, postmasterPid, readManifest } from "./cluster-registry.js";
import { NoClusterError } from "./errors.js";
import { LocalCluster, type LocalIsland } from "./local-cluster.js";
import {
  CLUSTER_CONFIG_FILE,
  clusterConfigPath,
  readClusterConfigFile,
} from "./local-cluster-files.js";
import { LocalNode, type NodeCredentials } from "./local-node.js";
import { findPostgresBinaries } from "./postgres-binaries.js";

/** @throws NoClusterError when the folder holds no persistent cluster. */
export function openLocalCluster(dir: string): LocalCluster {
  const clusterDir = resolve(dir);
  const manifest = readManifest(clusterDir);
  if (manifest === undefined) throw new NoClusterError(clusterDir, MANIFEST_FILE);
  if (manifest.nodes === undefined) {
    throw new NoClusterError(clusterDir, `the node layout in ${MANIFEST_FILE}`);
  }
  if (!existsSync(clusterConfigPath(clusterDir))) {
    throw new NoClusterError(clusterDir, CLUSTER_CONFIG_FILE);
  }
  const layout = manifest.nodes;
  const config = readClusterConfigFile(clusterDir);
  const binaries = findPostgresBinaries();

  const islands: LocalIsland[] = config.islands.map((island) => ({
    island: island.island,
    nodes: layout
      .filter((n) => n.island === island.island)
      .sort((a, b) => a.index - b.index)
      .map((n) => {
        const dataDir = join(n.dir, "data");
        return new LocalNode(
          n.island,
          n.index,
          n.dir,
          n.port,
          existsSync(join(dataDir, "standby.signal")) ? "replica" : "master",
          binaries,
          credentialsOf(island.nodes, n.port, clusterDir),
          postmasterPid(dataDir) === undefined ? "stopped" : "running",
        );
      }),
  }));
  return new LocalCluster(manifest.id, clusterDir, islands, config, manifest.persistent);
}

function credentialsOf(nodes: readonly NodeConfig[], port: number, dir: string): NodeCredentials {
  const node = nodes.find((n) => n.port === port);
  if (node?.password === undefined) {
    throw new NoClusterError(
      dir,
      `the node on port ${port} (with its password) in ${CLUSTER_CONFIG_FILE}`,
    );
  }
  return { user: node.user, password: node.password, database: node.database };
}
