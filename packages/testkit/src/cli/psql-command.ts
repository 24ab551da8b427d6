/**
 * `archipelago-local psql <island>`: an interactive psql on a node of the cluster (the island's current
 * master by default). The password reaches psql through PGPASSFILE (the cluster's passfile), never
 * through argv, where `ps` would show it.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { Command } from "commander";
import { passfilePath } from "../local-cluster-files.js";
import type { LocalNode } from "../local-node.js";
import { openLocalCluster } from "../open-local-cluster.js";
import { findPostgresBinaries } from "../postgres-binaries.js";
import { type CliOutput, dirOption, integerAtLeast } from "./cli-options.js";

export function psqlCommand(_output: CliOutput, setExitCode: (code: number) => void): Command {
  return new Command("psql")
    .description("run psql against a node (default: the island's master)")
    .argument("<island>", "island number", integerAtLeast(1, "island"))
    .argument("[psql-args...]", "arguments passed on to psql (after --)")
    .option(
      "--node <n>",
      "node index in the island (0 is the first master)",
      integerAtLeast(0, "--node"),
    )
    .addOption(dirOption())
    .action(async (island: number, psqlArgs: string[], options: { dir: string; node?: number }) => {
      const cluster = openLocalCluster(options.dir);
      const node =
        options.node === undefined ? cluster.master(island) : cluster.node(island, options.node);
      setExitCode(await runPsql(node, passfilePath(cluster.dir), psqlArgs));
    });
}

function runPsql(node: LocalNode, passfile: string, args: readonly string[]): Promise<number> {
  const { host, port, user, database } = node.connection();
  const psql = findPostgresBinaries().psql ?? "psql";
  const child = spawn(
    psql,
    ["--host", host, "--port", String(port), "--username", user, "--dbname", database, ...args],
    { stdio: "inherit", env: { ...process.env, PGPASSFILE: passfile } },
  );
  // Ctrl-C belongs to psql (it cancels the running query); we only wait for it to exit.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.off("SIGINT", ignore);
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
