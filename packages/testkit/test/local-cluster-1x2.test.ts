/**
 * One island, a master and two replicas: after the master dies and one replica is promoted, the other
 * replica must follow the new master (a new slot there, a new primary_conninfo, a timeline switch).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, type LocalNode, startLocalCluster } from "../src/index.js";

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 1, replicasPerIsland: 2 });
  await cluster.master(1).query("CREATE TABLE items (id int PRIMARY KEY, label text)");
});

afterAll(async () => {
  await cluster?.stop();
});

async function labelOf(node: LocalNode, id: number) {
  const rows = await node.query<{ label: string }>("SELECT label FROM items WHERE id = $1", [id]);
  return rows[0]?.label;
}

describe("a 1 × 2 local cluster", () => {
  it("streams to both replicas", async () => {
    await cluster.master(1).query("INSERT INTO items VALUES (1, 'to both')");
    await cluster.waitForReplication();
    expect(cluster.replicas(1)).toHaveLength(2);
    for (const replica of cluster.replicas(1)) expect(await labelOf(replica, 1)).toBe("to both");
  });

  it("after a failover, the other replica follows the new master", async () => {
    const [newMaster, follower] = cluster.replicas(1) as [LocalNode, LocalNode];
    await cluster.killNode(cluster.master(1));

    await cluster.promote(newMaster);

    expect(cluster.master(1)).toBe(newMaster);
    expect(cluster.replicas(1)).toEqual([follower]);
    await newMaster.query("INSERT INTO items VALUES (2, 'from the new master')");
    await cluster.waitForReplication(1);
    expect(await labelOf(follower, 2)).toBe("from the new master");
    expect(await labelOf(follower, 1)).toBe("to both");

    const [stream] = await newMaster.query<{ application_name: string; state: string }>(
      "SELECT application_name, state FROM pg_stat_replication",
    );
    expect(stream).toEqual({ application_name: follower.name, state: "streaming" });
  });
});
