/**
 * A 2-island cluster with one streaming replica each: roles, replication, replay control, stop/start,
 * crash/recovery and failover, all on real servers. Island 1 carries the non-destructive checks;
 * island 2 is the one whose master gets killed and replaced.
 */
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, startLocalCluster } from "../src/index.js";

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  for (const island of [1, 2]) {
    await cluster.master(island).query("CREATE TABLE items (id int PRIMARY KEY, label text)");
  }
  await cluster.waitForReplication();
});

afterAll(async () => {
  await cluster?.stop();
});

async function isInRecovery(node: { query: LocalCluster["nodes"][number]["query"] }) {
  const [row] = await node.query<{ recovering: boolean }>(
    "SELECT pg_is_in_recovery() AS recovering",
  );
  return row?.recovering;
}

async function labelOf(node: LocalCluster["nodes"][number], id: number) {
  const rows = await node.query<{ label: string }>("SELECT label FROM items WHERE id = $1", [id]);
  return rows[0]?.label;
}

describe("a 2 × 1 local cluster", () => {
  it("has both islands in its config, with a master and a replica each", () => {
    expect(cluster.config.islands.map((i) => i.island)).toEqual([1, 2]);
    for (const island of cluster.config.islands) {
      expect(island.nodes).toHaveLength(2);
      expect(island.nodes.map((n) => n.name)).toEqual([
        `island${island.island}-node0`,
        `island${island.island}-node1`,
      ]);
    }
    expect(new Set(cluster.nodes.map((n) => n.port)).size).toBe(4);
  });

  it("runs the master out of recovery and the replica in recovery", async () => {
    for (const island of [1, 2]) {
      expect(await isInRecovery(cluster.master(island))).toBe(false);
      const [replica] = cluster.replicas(island);
      expect(replica).toBeDefined();
      expect(await isInRecovery(replica as LocalCluster["nodes"][number])).toBe(true);
    }
  });

  it("shows a write on the master on the replica after waitForReplication", async () => {
    await cluster.master(1).query("INSERT INTO items VALUES (1, 'replicated')");
    await cluster.waitForReplication(1);
    expect(await labelOf(cluster.node(1, 1), 1)).toBe("replicated");
  });

  it("lets a paused replica lag, and catches up after resume", async () => {
    const replica = cluster.node(1, 1);
    await cluster.pauseReplay(replica);
    try {
      await cluster.master(1).query("INSERT INTO items VALUES (2, 'while paused')");
      // waitForReplication skips a paused replica, so this returns; the row must still be missing.
      await cluster.waitForReplication(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await labelOf(replica, 2)).toBeUndefined();
    } finally {
      await cluster.resumeReplay(replica);
    }
    await cluster.waitForReplication(1);
    expect(await labelOf(replica, 2)).toBe("while paused");
  });

  it("stops a replica and starts it again; it catches up with what it missed", async () => {
    const replica = cluster.node(1, 1);
    await cluster.stopNode(replica);
    expect(replica.status).toBe("stopped");
    await expect(replica.query("SELECT 1")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await cluster.master(1).query("INSERT INTO items VALUES (3, 'while stopped')");
    await cluster.startNode(replica);
    expect(replica.status).toBe("running");
    await cluster.waitForReplication(1);
    expect(await labelOf(replica, 3)).toBe("while stopped");
  });

  it("recovers a killed master with its committed data on restart", async () => {
    const master = cluster.master(1);
    await master.query("INSERT INTO items VALUES (4, 'before the crash')");
    await cluster.killNode(master);
    expect(master.status).toBe("stopped");
    await cluster.restartNode(master);
    expect(master.status).toBe("running");
    expect(await isInRecovery(master)).toBe(false);
    expect(await labelOf(master, 4)).toBe("before the crash");
    await master.query("INSERT INTO items VALUES (5, 'after the crash')");
    await cluster.waitForReplication(1);
    expect(await labelOf(cluster.node(1, 1), 5)).toBe("after the crash");
  });

  it("promotes the replica after the master is killed; the new master takes writes", async () => {
    const oldMaster = cluster.master(2);
    const replica = cluster.node(2, 1);
    await oldMaster.query("INSERT INTO items VALUES (1, 'before failover')");
    await cluster.waitForReplication(2);
    await cluster.killNode(oldMaster);

    await cluster.promote(replica);

    expect(cluster.master(2)).toBe(replica);
    expect(replica.role).toBe("master");
    expect(cluster.replicas(2)).toEqual([]);
    expect(await isInRecovery(replica)).toBe(false);
    await replica.query("INSERT INTO items VALUES (2, 'after failover')");
    expect(await labelOf(replica, 1)).toBe("before failover");
    expect(await labelOf(replica, 2)).toBe("after failover");
  });

  it("never prints the password, in its config or its handle", () => {
    const password = cluster.master(1).connection().password;
    expect(password.length).toBeGreaterThan(10);
    expect(inspect(cluster.config, { depth: null })).not.toContain(password);
    expect(JSON.stringify(cluster.config)).not.toContain(password);
    expect(inspect(cluster, { depth: null })).not.toContain(password);
    expect(String(cluster.config.islands[0]?.nodes[0]?.password)).toBe("******");
  });
});
