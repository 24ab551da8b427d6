/**
 * Start-up time of a local cluster: 2 islands × (1 master + 1 streaming replica), against a baseline
 * measured in the same run on the same machine: what one hand-made server costs (`initdb`, then
 * `pg_ctl start -w`), the least any PostgreSQL-backed test can pay.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  findPostgresBinaries,
  freePort,
  handToServerUser,
  runAsServerUser,
  startLocalCluster,
} from "@archipelago/testkit";
import { figure, median } from "./report.js";

const ROUNDS = 3;

async function singleServerSeconds(): Promise<number> {
  const bins = findPostgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), "archipelago-bench-"));
  handToServerUser(dir);
  const data = join(dir, "data");
  const port = await freePort();
  const started = performance.now();
  await runAsServerUser(bins.initdb, [
    "--pgdata",
    data,
    "--auth=trust",
    "--no-sync",
    "--no-instructions",
  ]);
  await runAsServerUser(bins.pgCtl, [
    "start",
    "--pgdata",
    data,
    "--wait",
    "--silent",
    "--log",
    join(dir, "server.log"),
    "-o",
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
  ]);
  const seconds = (performance.now() - started) / 1000;
  await runAsServerUser(bins.pgCtl, [
    "stop",
    "--pgdata",
    data,
    "--mode",
    "immediate",
    "--wait",
    "--silent",
  ]);
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

async function clusterSeconds(): Promise<number> {
  const started = performance.now();
  const cluster = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  const seconds = (performance.now() - started) / 1000;
  await cluster.stop();
  return seconds;
}

export async function benchClusterStart(): Promise<void> {
  const baseline: number[] = [];
  const cluster: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(await singleServerSeconds());
    cluster.push(await clusterSeconds());
    console.log(
      `  round ${round + 1}/${ROUNDS}: single server ${baseline.at(-1)?.toFixed(2)} s, ` +
        `2×2 cluster ${cluster.at(-1)?.toFixed(2)} s`,
    );
  }
  const clusterMedian = median(cluster);
  const baselineMedian = median(baseline);
  figure("single_server_start_s", baselineMedian.toFixed(2), "s");
  figure("cluster_start_2x2_s", clusterMedian.toFixed(2), "s");
  figure(
    "cluster_start_2x2_vs_single_server",
    (clusterMedian / baselineMedian).toFixed(2),
    "ratio",
  );
}
