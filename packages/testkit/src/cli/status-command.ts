import { Command } from "commander";
import { clusterStatus, type NodeStatusReport } from "../cluster-status.js";
import { openLocalCluster } from "../open-local-cluster.js";
import { type CliOutput, dirOption } from "./cli-options.js";

/** `archipelago-local status`: one line per node, or JSON with `--json`. */
export function statusCommand(output: CliOutput): Command {
  return new Command("status")
    .description("show each node: island, name, port, running, role, replica lag")
    .addOption(dirOption())
    .option("--json", "print JSON instead of a table")
    .action(async (options: { dir: string; json?: boolean }) => {
      const cluster = openLocalCluster(options.dir);
      const report = await clusterStatus(cluster);
      output.out(
        options.json
          ? `${JSON.stringify({ dir: cluster.dir, nodes: report }, null, 2)}\n`
          : formatStatus(report),
      );
    });
}

export function formatStatus(report: readonly NodeStatusReport[]): string {
  const header = ["ISLAND", "NODE", "PORT", "STATE", "ROLE", "LAG"];
  const rows = report.map((n) => [
    String(n.island),
    n.name,
    String(n.port),
    n.running ? (n.error === null ? "running" : `unreachable (${n.error})`) : "stopped",
    n.role ?? "-",
    lagText(n),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return `${[header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

function lagText(node: NodeStatusReport): string {
  if (node.role !== "replica") return "-";
  const bytes = node.lagBytes === null ? "?" : `${node.lagBytes} B`;
  return node.replayPaused ? `${bytes} (replay paused)` : bytes;
}
