/**
 * Regression: the servers ran with `synchronous_commit = off`, so a commit was acknowledged while its
 * WAL was still in shared memory, and `killNode` (an immediate shutdown) lost it. A crash test would
 * then blame the code under test for losing acknowledged writes. Every acknowledged commit must survive.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, startLocalCluster } from "../../src/index.js";

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 1, replicasPerIsland: 0 });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("killNode", () => {
  it("keeps every write acknowledged right before the kill", async () => {
    const master = cluster.master(1);
    await master.query("CREATE TABLE acked (id int PRIMARY KEY)");
    const client = new pg.Client(master.connection());
    await client.connect();
    let acknowledged = 0;
    try {
      for (let id = 1; id <= 200; id++) {
        await client.query("INSERT INTO acked VALUES ($1)", [id]);
        acknowledged = id;
      }
    } finally {
      await client.end();
    }

    await cluster.killNode(master);
    await cluster.startNode(master);

    const [row] = await master.query<{ n: number }>("SELECT count(*)::int AS n FROM acked");
    expect(row?.n).toBe(acknowledged);
  });
});
