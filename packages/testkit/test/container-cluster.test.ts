/**
 * The container backend against a real Docker engine: the same checks as the local 2 × 1 and 1 × 2
 * files, through the `TestCluster` interface. Skipped, with the reason printed, where no engine answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ContainerCluster,
  type ContainerNode,
  dockerAvailable,
  startContainerCluster,
  type TestNode,
} from "../src/index.js";

const docker = await dockerAvailable();
if (!docker) console.warn("no Docker engine: container backend not exercised");

async function labelOf(node: TestNode, id: number) {
  const rows = await node.query<{ label: string }>("SELECT label FROM items WHERE id = $1", [id]);
  return rows[0]?.label;
}

async function isInRecovery(node: TestNode) {
  const [row] = await node.query<{ recovering: boolean }>(
    "SELECT pg_is_in_recovery() AS recovering",
  );
  return row?.recovering;
}

describe.skipIf(!docker)(
  "a 1 × 2 container cluster (no Docker engine: container backend not exercised)",
  () => {
    let cluster: ContainerCluster;

    beforeAll(async () => {
      cluster = await startContainerCluster({ islands: 1, replicasPerIsland: 2 });
      await cluster.master(1).query("CREATE TABLE items (id int PRIMARY KEY, label text)");
    }, 300_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it("runs a master and two streaming replicas", async () => {
      expect(cluster.config.islands[0]?.nodes).toHaveLength(3);
      expect(await isInRecovery(cluster.master(1))).toBe(false);
      for (const replica of cluster.replicas(1)) expect(await isInRecovery(replica)).toBe(true);
      await cluster.master(1).query("INSERT INTO items VALUES (1, 'replicated')");
      await cluster.waitForReplication();
      for (const replica of cluster.replicas(1))
        expect(await labelOf(replica, 1)).toBe("replicated");
    });

    it("pauses and resumes replay", async () => {
      const replica = cluster.node(1, 1);
      await cluster.pauseReplay(replica);
      await cluster.master(1).query("INSERT INTO items VALUES (2, 'while paused')");
      await cluster.waitForReplication();
      expect(await labelOf(replica, 2)).toBeUndefined();
      await cluster.resumeReplay(replica);
      await cluster.waitForReplication();
      expect(await labelOf(replica, 2)).toBe("while paused");
    });

    it("keeps committed data through a kill and restart, on the same port", async () => {
      const master = cluster.master(1);
      const port = master.port;
      await master.query("INSERT INTO items VALUES (3, 'before the crash')");
      await cluster.killNode(master);
      await cluster.restartNode(master);
      expect(master.port).toBe(port);
      expect(await labelOf(master, 3)).toBe("before the crash");
    });

    it("promotes a replica after the master dies; the other replica follows", async () => {
      const [newMaster, follower] = cluster.replicas(1) as [ContainerNode, ContainerNode];
      await cluster.killNode(cluster.master(1));
      await cluster.promote(newMaster);
      expect(cluster.master(1)).toBe(newMaster);
      await newMaster.query("INSERT INTO items VALUES (4, 'after failover')");
      await cluster.waitForReplication();
      expect(await labelOf(follower, 4)).toBe("after failover");
    });
  },
);

describe.skipIf(docker)("the container backend without a Docker engine", () => {
  it("fails with a typed error instead of hanging", async () => {
    await expect(startContainerCluster({ islands: 1 })).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
    });
  });
});
