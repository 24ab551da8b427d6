// Regression: with the owning island down at a cold start, a microshard was reported as not existing
// (MicroshardNotFound after 16 ms) although the island that holds it could not be asked.
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  startClientFixture,
} from "../../../../test/helpers/cluster-fixture.js";
import { Cluster, MicroshardNotFoundError, RetryDeadlineExceededError } from "../../src/index.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 0, microshards: 2 });
});

afterAll(async () => {
  await fx?.stop();
});

it("an island that cannot be asked is not proof that its microshards do not exist", async () => {
  const island = fx.placement.get(2) as number;
  const schema = "sh0002";
  await fx.local.stopNode(fx.local.master(island));
  const cold = new Cluster(fx.local.config, { discoveryIslandTimeoutMs: 300 });
  try {
    const error = await cold
      .shard(2)
      .query(`SELECT count(*) FROM ${schema}.items`, [], { deadlineMs: 800 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryDeadlineExceededError);
    expect(error).not.toBeInstanceOf(MicroshardNotFoundError);
    await fx.local.startNode(fx.local.master(island));
    await expect(cold.shard(2).query(`SELECT count(*) FROM ${schema}.items`)).resolves.toHaveLength(
      1,
    );
    // With every island answering, a bogus microshard is still refused fast.
    await expect(cold.shard(4321).query("SELECT 1")).rejects.toBeInstanceOf(
      MicroshardNotFoundError,
    );
  } finally {
    await cold.end();
  }
});
