/**
 * `stop()` is the one teardown: no server process may outlive it, and the folder goes with it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, startLocalCluster } from "../src/index.js";
import { isRunning, pgrep } from "./helpers/processes.js";

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 1, replicasPerIsland: 1 });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("LocalCluster.stop()", () => {
  it("leaves no postmaster running and removes the cluster folder", async () => {
    const pids = cluster.nodes.map((node) =>
      Number(readFileSync(join(node.dataDir, "postmaster.pid"), "utf8").split("\n")[0]),
    );
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isRunning(pid)).toBe(true);
    expect(pgrep(cluster.dir)).toHaveLength(2);

    await cluster.stop();

    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(pgrep(cluster.dir)).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
    expect(cluster.nodes.every((n) => n.status === "stopped")).toBe(true);
  });

  it("is safe to call twice", async () => {
    await expect(cluster.stop()).resolves.toBeUndefined();
  });
});
