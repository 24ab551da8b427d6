/** `archipelago status`: islands, nodes and roles, microshards with states and sizes, the imbalance. */
import type { Command } from "commander";
import { effectiveConfig } from "../jobs/draining-islands.js";
import {
  type ClusterStatus,
  type IslandStatus,
  readClusterStatus,
} from "../status/cluster-status.js";
import { type CliIo, withCluster } from "./cli-session.js";
import { formatBytes, formatRatio, table } from "./text-format.js";

export function addStatusCommand(program: Command, io: CliIo): void {
  program
    .command("status")
    .description(
      "show each island: its nodes and their roles, its microshards with state, generation and size, " +
        "and the cluster's imbalance (fullest island's size / its weighted fair share; 1.00 = even)",
    )
    .action((_options: unknown, command: Command) =>
      withCluster(io, command, async (session) => {
        // Islands marked draining show as such; an unreachable control island must not hide the rest.
        const config = await effectiveConfig(session.config, session.masters).catch(
          () => session.config,
        );
        const status = await readClusterStatus(config, session.masters);
        session.print(status, () => formatStatus(status));
      }),
    );
}

export function formatStatus(status: ClusterStatus): string {
  const lines = [
    `${status.islands.length} island(s), global island ${status.globalIsland}, imbalance ` +
      `${formatRatio(status.imbalance)} (fullest island / its weighted share; 1.00 = even)`,
  ];
  for (const v of status.violations) {
    lines.push(
      `WARNING: microshard ${v.microshard}: ${v.message} (islands ${v.islands.join(", ")})`,
    );
  }
  for (const island of status.islands) lines.push("", ...formatIsland(island));
  return lines.join("\n");
}

function formatIsland(island: IslandStatus): string[] {
  const tags = [
    island.global ? "global" : "",
    island.draining ? "DRAINING" : "",
    `weight ${island.weight}`,
    `active ${formatBytes(island.activeBytes)}`,
    `load ${formatRatio(island.load)}`,
    `all copies ${formatBytes(island.totalBytes)}`,
  ].filter(Boolean);
  const nodes = table(
    ["NODE", "ADDRESS", "ROLE", "REPLAY LAG"],
    island.nodes.map((n) => [
      n.name,
      `${n.host}:${n.port}`,
      n.role === "down" ? `down (${n.error})` : n.role,
      n.lagBytes === null ? "-" : formatBytes(n.lagBytes),
    ]),
  );
  const microshards =
    island.error !== null
      ? `catalog not read: ${island.error}`
      : island.microshards.length === 0
        ? "no microshards"
        : table(
            ["MICROSHARD", "SCHEMA", "STATE", "GENERATION", "SIZE"],
            island.microshards.map((m) => [
              String(m.microshard),
              m.schema,
              m.state,
              String(m.generation),
              formatBytes(m.bytes),
            ]),
          );
  return [`island ${island.island}  ${tags.join("  ")}`, indent(nodes), indent(microshards)];
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
