import { randomBytes } from "node:crypto";
import { Secret } from "@archipelago/topology";
import type { NodeCredentials } from "../local-node.js";
import type { TestClusterShape } from "../test-cluster.js";

export interface ResolvedShape {
  readonly islands: number;
  readonly replicasPerIsland: number;
  readonly idEnvironment: number;
  readonly credentials: NodeCredentials;
}

/** Fills the defaults of a cluster shape and checks it; a fresh random password for every cluster. */
export function resolveShape(options: TestClusterShape): ResolvedShape {
  const islands = options.islands ?? 2;
  const replicasPerIsland = options.replicasPerIsland ?? 1;
  if (!Number.isInteger(islands) || islands < 1) throw new RangeError("islands must be ≥ 1");
  if (!Number.isInteger(replicasPerIsland) || replicasPerIsland < 0) {
    throw new RangeError("replicasPerIsland must be ≥ 0");
  }
  return {
    islands,
    replicasPerIsland,
    idEnvironment: options.idEnvironment ?? 1,
    credentials: {
      user: options.user ?? "archipelago",
      password: new Secret(randomBytes(18).toString("base64url")),
      database: options.database ?? "archipelago",
    },
  };
}
