/**
 * A persistent cluster (started with `dir`, as the CLI does): it writes its config file, can be reopened
 * from the folder by another handle, and is torn down from the manifest alone. Also the guards around
 * the folder: never start in a non-empty one, fail clearly when the server user cannot reach it.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClusterDirNotAccessibleError,
  ClusterDirNotEmptyError,
  clusterConfigPath,
  destroyLocalCluster,
  type LocalCluster,
  NoClusterError,
  openLocalCluster,
  readClusterConfigFile,
  startLocalCluster,
} from "../src/index.js";
import { isRunning } from "./helpers/processes.js";

const base = mkdtempSync(join(tmpdir(), "archipelago-persistent-test-"));
chmodSync(base, 0o755);
// Two levels of parents that do not exist yet: they used to be created 0700, out of the server user's reach.
const dir = join(base, "nested", "deeper", "cluster");
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ dir, islands: 1, replicasPerIsland: 1 });
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(base, { recursive: true, force: true });
});

describe("a persistent 1 × 1 local cluster", () => {
  it("lives in the given folder, even under parents it had to create", () => {
    expect(cluster.dir).toBe(dir);
    expect(cluster.persistent).toBe(true);
    expect(statSync(join(base, "nested")).mode & 0o777).toBe(0o755);
  });

  it("writes its config with passwords to cluster-config.json, mode 0600", () => {
    const path = clusterConfigPath(dir);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const config = readClusterConfigFile(dir);
    const node = config.islands[0]?.nodes[0];
    expect(node?.port).toBe(cluster.master(1).port);
    expect(node?.password?.reveal()).toBe(cluster.master(1).connection().password);
  });

  it("reopens from the folder with each node's state read from disk", async () => {
    const reopened = openLocalCluster(dir);
    expect(reopened.id).toBe(cluster.id);
    expect(reopened.nodes.map((n) => [n.name, n.port, n.role, n.status])).toEqual(
      cluster.nodes.map((n) => [n.name, n.port, n.role, "running"]),
    );
    await reopened.master(1).query("CREATE TABLE reopened (id int)");
    await reopened.waitForReplication();
    const rows = await reopened.node(1, 1).query("SELECT count(*)::int AS n FROM reopened");
    expect(rows).toEqual([{ n: 0 }]);

    await reopened.stopNode(reopened.node(1, 1));
    expect(openLocalCluster(dir).node(1, 1).status).toBe("stopped");
    await reopened.startNode(reopened.node(1, 1));
    expect(openLocalCluster(dir).node(1, 1).status).toBe("running");
  });

  it("refuses to start in a folder that holds a cluster or anything else", async () => {
    await expect(
      startLocalCluster({ dir, islands: 1, replicasPerIsland: 0 }),
    ).rejects.toMatchObject({ code: "CLUSTER_DIR_NOT_EMPTY", hasCluster: true });
    const other = join(base, "other");
    mkdirSync(other);
    writeFileSync(join(other, "keep-me.txt"), "user data");
    const error = await startLocalCluster({ dir: other, islands: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterDirNotEmptyError);
    expect(existsSync(join(other, "keep-me.txt"))).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "fails clearly when the server user cannot reach the folder (running as root)",
    async () => {
      const closed = join(base, "closed");
      mkdirSync(closed, { mode: 0o700 });
      const error = await startLocalCluster({ dir: join(closed, "cluster"), islands: 1 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ClusterDirNotAccessibleError);
      expect(existsSync(join(closed, "cluster"))).toBe(false);
    },
  );

  it("has no cluster to open in a folder without a manifest", () => {
    expect(() => openLocalCluster(base)).toThrow(NoClusterError);
    expect(() => openLocalCluster(base)).toThrow(/no cluster in .*; run archipelago-local up/);
  });

  it("is torn down from its manifest alone", async () => {
    const pids = cluster.nodes.map((n) => n.dataDir).map(postmasterPidOf);
    const destroyed = await destroyLocalCluster(dir);
    expect(destroyed).toEqual({ id: cluster.id, dir, stoppedServers: 2 });
    expect(pids.some(isRunning)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(destroyLocalCluster(dir)).rejects.toBeInstanceOf(NoClusterError);
  });
});

function postmasterPidOf(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}
