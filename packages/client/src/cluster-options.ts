/**
 * The options of a `Cluster`, validated once at construction: a NaN interval or a jitter above 1 would
 * otherwise become a busy loop or a negative delay far from where it was written.
 */
import { InvalidConfigError } from "@archipelago/topology";
import type pg from "pg";
import { z } from "zod";
import type { RetryPolicy } from "./retry-policy.js";

export interface ClusterOptions {
  /** node-postgres pool options applied to every node (max, idleTimeoutMillis, …). */
  readonly pool?: Omit<
    pg.PoolConfig,
    "host" | "port" | "user" | "password" | "database" | "connectionString"
  >;
  /** See retry-policy.ts; validated there. */
  readonly retry?: Partial<RetryPolicy>;
  readonly discoveryIntervalMs?: number;
  readonly discoveryJitter?: number;
  readonly rediscoverMinIntervalMs?: number;
  readonly discoveryIslandTimeoutMs?: number;
  readonly replicaPositionIntervalMs?: number;
  readonly nodeDownMs?: number;
  readonly maxBatchSize?: number;
}

const positiveMs = z.number().finite().positive();
const optionsSchema = z.looseObject({
  discoveryIntervalMs: positiveMs.optional(),
  discoveryJitter: z.number().min(0).max(1).optional(),
  rediscoverMinIntervalMs: z.number().finite().min(0).optional(),
  discoveryIslandTimeoutMs: positiveMs.optional(),
  replicaPositionIntervalMs: positiveMs.optional(),
  nodeDownMs: z.number().finite().min(0).optional(),
  maxBatchSize: z.number().int().min(1).optional(),
});

/** @throws InvalidConfigError naming each bad option */
export function validateClusterOptions(options: ClusterOptions): ClusterOptions {
  const result = optionsSchema.safeParse(options);
  if (!result.success) {
    throw new InvalidConfigError(
      result.error.issues.map((issue) => ({
        path: `options.${issue.path.map(String).join(".")}`,
        message: issue.message,
      })),
    );
  }
  return options;
}
