/**
 * PostgreSQL advisory locks every Archipelago process agrees on.
 *
 * All use the two-key form `pg_advisory_lock(namespace, key)` with one namespace, so that they cannot
 * collide with an application's own single-key advisory locks. The keys are part of the on-disk
 * contract: changing one lets an old and a new process run conflicting work at once.
 */
import { microshardNumber } from "./microshard.js";

/** "ARCH" as a 32-bit integer: the first key of every Archipelago advisory lock. */
export const ADVISORY_LOCK_NAMESPACE = 0x41524348;

export const ADVISORY_LOCKS = Object.freeze({
  /** Held (per island master, transaction-scoped) while the catalog is installed or upgraded. */
  catalogInstall: 1,
  /**
   * Held per island master by the migration runner (exclusive) and by moves and allocation (shared):
   * migrations and moves exclude each other, moves run side by side.
   */
  migrations: 2,
  /** Held on the global island's master while microshard numbers are chosen and created. */
  clusterAllocation: 3,
  /** Held on the global island's master while a cluster map is built and published. */
  clusterMapPublish: 4,
  /** Held on the global island's master by the leading shard manager, for as long as it leads. */
  managerLeader: 5,
  /** Base of the per-microshard allocation locks (key = base + microshard number). */
  microshardAllocationBase: 10_000,
  /** Base of the per-microshard move locks (key = base + microshard number). */
  microshardMoveBase: 20_000,
});

export type AdvisoryLockKey = readonly [namespace: number, key: number];

export type ClusterLock =
  | "catalogInstall"
  | "migrations"
  | "clusterAllocation"
  | "clusterMapPublish"
  | "managerLeader";

/** The key pair of a cluster-wide lock. */
export function advisoryLock(lock: ClusterLock): AdvisoryLockKey {
  return [ADVISORY_LOCK_NAMESPACE, ADVISORY_LOCKS[lock]];
}

/** The key pair of a lock on one microshard. */
export function microshardLock(kind: "allocation" | "move", microshard: number): AdvisoryLockKey {
  const base =
    kind === "allocation"
      ? ADVISORY_LOCKS.microshardAllocationBase
      : ADVISORY_LOCKS.microshardMoveBase;
  return [ADVISORY_LOCK_NAMESPACE, base + microshardNumber(microshard)];
}
