import {
  formatId,
  InvalidIdError,
  InvalidMicroshardError,
  microshardOfId,
  parseClusterConfig,
} from "@archipelago/topology";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster } from "./cluster.js";

// Nothing connects until the first query: these tests never reach the (absent) server.
const cluster = new Cluster(
  parseClusterConfig({
    islands: [{ island: 1, nodes: [{ dsn: "postgres://nobody@127.0.0.1:1/none" }] }],
    idEnvironment: 2,
  }),
);

afterAll(async () => {
  await cluster.end();
});

/** What `microshardOf` answers, written the slow way: topology's parser, then the environment. */
function expected(id: unknown): number | string {
  try {
    const microshard = microshardOfId(id);
    const environment = String(id).charCodeAt(0) - 48;
    return environment === 2 ? microshard : `environment ${environment}`;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidIdError);
    return (error as Error).message;
  }
}

function actual(id: unknown): number | string {
  try {
    return cluster.microshardOf(id);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidIdError);
    const message = (error as Error).message;
    const environment = /ID environment (\d)/.exec(message);
    return environment ? `environment ${environment[1]}` : message;
  }
}

describe("Cluster.microshardOf", () => {
  it("agrees with topology's microshardOfId and the environment check on any input", () => {
    const ids = fc
      .record({
        environment: fc.integer({ min: 1, max: 8 }),
        microshard: fc.integer({ min: 0, max: 9999 }),
        sequence: fc.bigInt({ min: 1n, max: 10n ** 14n - 1n }),
      })
      .map((p) => formatId(p));
    const inputs = fc.oneof(
      ids,
      ids.map((id) => BigInt(id)),
      ids.map((id) => `${id} `),
      ids.map((id) => id.slice(0, 5) + "0".repeat(14)),
      fc.stringMatching(/^[0-9]{17,20}$/),
      fc.string(),
      fc.integer(),
      fc.constantFrom(null, undefined, {}, 1.5),
    );
    fc.assert(
      fc.property(inputs, (input) => {
        expect(actual(input)).toEqual(expected(input));
      }),
    );
  });

  it("routes an ID to the same Shard as its microshard number", () => {
    const id = formatId({ environment: 2, microshard: 42, sequence: 7n });
    expect(cluster.shardOf(id)).toBe(cluster.shard(42));
    expect(cluster.shardOf(id).microshard).toBe(42);
    expect(cluster.globalShard()).toBe(cluster.shard(0));
  });

  it("still refuses bad microshard numbers", () => {
    for (const bad of [-1, 10_000, 1.5, Number.NaN]) {
      expect(() => cluster.shard(bad)).toThrow(InvalidMicroshardError);
    }
  });
});
