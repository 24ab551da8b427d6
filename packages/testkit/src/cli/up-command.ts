/**
 * `archipelago-local up`: a persistent cluster in a folder, servers left running when the CLI exits
 * (a persistent cluster registers no exit hook), config written for apps to read.
 *
 * On a folder that already holds a cluster, `up` starts the servers that are down (after a reboot, all
 * of them) instead of failing — except stopped masters of an island that has had a failover: started,
 * the old master would be a second master, so they stay down and `up` says so.
 */

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ClusterConfig, serializeClusterConfig } from "@archipelago/topology";
import { Command } from "commander";
import { MANIFEST_FILE } from "../cluster-registry.js";
import { ClusterDirNotEmptyError } from "../errors.js";
import type { LocalCluster } from "../local-cluster.js";
import { clusterConfigPath } from "../local-cluster-files.js";
import { openLocalCluster } from "../open-local-cluster.js";
import { startLocalCluster } from "../start-local-cluster.js";
import { type CliOutput, dirOption, given, integerAtLeast } from "./cli-options.js";

export function upCommand(output: CliOutput): Command {
  return new Command("up")
    .description("start a persistent local cluster and write its config file")
    .addOption(dirOption())
    .option("--islands <n>", "number of islands", integerAtLeast(1, "--islands"), 2)
    .option("--replicas <n>", "streaming replicas per island", integerAtLeast(0, "--replicas"), 1)
    .action(
      async (options: { dir: string; islands: number; replicas: number }, command: Command) => {
        const dir = resolve(options.dir);
        if (existsSync(join(dir, MANIFEST_FILE))) {
          const cluster = openLocalCluster(dir);
          const shape = shapeOf(cluster.config);
          if (
            (given(command, "islands") && options.islands !== shape.islands) ||
            (given(command, "replicas") && options.replicas !== shape.replicas)
          ) {
            throw new ClusterDirNotEmptyError(dir, true);
          }
          const { started, leftDown } = await startStoppedNodes(cluster);
          output.out(
            started.length === 0
              ? `Cluster already up in ${dir}\n`
              : `Cluster in ${dir}: started ${started.join(", ")}\n`,
          );
          for (const name of leftDown) {
            output.err(
              `${name} left stopped: its island has had a failover, so another node may be its master\n`,
            );
          }
          printConfig(output, cluster.config, dir);
          return;
        }
        const cluster = await startLocalCluster({
          dir,
          islands: options.islands,
          replicasPerIsland: options.replicas,
        });
        const replicas = options.replicas === 1 ? "1 replica" : `${options.replicas} replicas`;
        output.out(
          `Cluster up in ${dir}: ${options.islands} island(s) × (1 master + ${replicas})\n`,
        );
        printConfig(output, cluster.config, dir);
      },
    );
}

function printConfig(output: CliOutput, config: ClusterConfig, dir: string): void {
  output.out(`${JSON.stringify(serializeClusterConfig(config), null, 2)}\n`);
  output.out(`Config with passwords (mode 0600): ${clusterConfigPath(dir)}\n`);
}

function shapeOf(config: ClusterConfig): { islands: number; replicas: number } {
  return {
    islands: config.islands.length,
    replicas: (config.islands[0]?.nodes.length ?? 1) - 1,
  };
}

async function startStoppedNodes(
  cluster: LocalCluster,
): Promise<{ started: string[]; leftDown: string[] }> {
  const started: string[] = [];
  const leftDown: string[] = [];
  for (const island of cluster.islands) {
    // After a failover the old master has no standby.signal either: two nodes look like masters, and
    // only a running one is known to be the real one. Starting another would split the island.
    const ambiguous = island.nodes.filter((n) => n.role === "master").length > 1;
    for (const node of island.nodes) {
      if (node.status === "running") continue;
      if (node.role === "master" && ambiguous) {
        leftDown.push(node.name);
        continue;
      }
      await cluster.startNode(node);
      started.push(node.name);
    }
  }
  return { started, leftDown };
}
