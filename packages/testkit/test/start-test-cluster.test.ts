/**
 * Backend selection: `ARCHIPELAGO_TESTKIT_BACKEND` picks the backend, an unknown value is an error (never
 * a silent fallback), and a backend refuses what it cannot do with a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InvalidBackendError,
  resolveBackend,
  startTestCluster,
  type TestCluster,
  UnsupportedOperationError,
} from "../src/index.js";

describe("resolveBackend", () => {
  it("defaults to local and accepts both backends by name", () => {
    expect(resolveBackend(undefined, {})).toBe("local");
    expect(resolveBackend(undefined, { ARCHIPELAGO_TESTKIT_BACKEND: "" })).toBe("local");
    expect(resolveBackend(undefined, { ARCHIPELAGO_TESTKIT_BACKEND: "testcontainers" })).toBe(
      "testcontainers",
    );
    expect(resolveBackend("local", { ARCHIPELAGO_TESTKIT_BACKEND: "testcontainers" })).toBe(
      "local",
    );
  });

  it("rejects an unknown backend, naming the allowed ones", () => {
    const error = (() => {
      try {
        resolveBackend(undefined, { ARCHIPELAGO_TESTKIT_BACKEND: "docker" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidBackendError);
    expect(error).toMatchObject({ code: "INVALID_TESTKIT_BACKEND", value: "docker" });
    expect(String(error)).toContain("local, testcontainers");
  });
});

describe("startTestCluster", () => {
  it("refuses a persistent folder on the container backend", async () => {
    const error = await startTestCluster({ backend: "testcontainers", dir: "/tmp/x" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedOperationError);
    expect(error).toMatchObject({ code: "UNSUPPORTED_OPERATION", backend: "testcontainers" });
  });

  describe("with the local backend", () => {
    let cluster: TestCluster;

    beforeAll(async () => {
      cluster = await startTestCluster({ backend: "local", islands: 1, replicasPerIsland: 0 });
    });

    afterAll(async () => {
      await cluster?.stop();
    });

    it("returns a TestCluster handle", async () => {
      expect(cluster.backend).toBe("local");
      expect(cluster.nodes).toHaveLength(1);
      expect(await cluster.master(1).query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      await expect(cluster.waitForReplication()).resolves.toBeUndefined();
    });
  });
});
