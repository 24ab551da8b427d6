/**
 * The migrations advisory lock, held on every island master for the whole of a migration run
 * (exclusive) and by each move and allocation on the islands it touches (shared): migrations and moves
 * exclude each other, moves do not exclude each other. Session-scoped, so it spans many transactions
 * on one connection; islands are locked in ascending order so two runners cannot deadlock.
 */

import { ArchipelagoError, advisoryLock } from "@archipelago/topology";
import type pg from "pg";
import { acquireSessionLock, releaseSessionLock, withSessionLock } from "./session-lock.js";

export type MigrationLockMode = "exclusive" | "shared";

/** The lock was held by someone else (a move, an allocation or another runner) past the timeout. */
export class MigrationLockBusyError extends ArchipelagoError {
  readonly code = "MIGRATION_LOCK_BUSY";
  override readonly name = "MigrationLockBusyError";
  constructor(
    readonly island: number,
    readonly mode: MigrationLockMode,
    readonly waitedMs: number,
  ) {
    super(
      `Island ${island}: the migrations lock stayed busy for ${waitedMs} ms (${
        mode === "exclusive" ? "a move, an allocation or another migration run" : "a migration run"
      } holds it). Try again when it is done.`,
    );
  }
  protected override details() {
    return { island: this.island, mode: this.mode, waitedMs: this.waitedMs };
  }
}

export function acquireMigrationLock(
  client: pg.ClientBase,
  island: number,
  mode: MigrationLockMode,
  timeoutMs: number,
): Promise<void> {
  return acquireSessionLock(client, advisoryLock("migrations"), {
    shared: mode === "shared",
    timeoutMs,
    busy: () => new MigrationLockBusyError(island, mode, timeoutMs),
  });
}

export function releaseMigrationLock(
  client: pg.ClientBase,
  mode: MigrationLockMode,
): Promise<void> {
  return releaseSessionLock(client, advisoryLock("migrations"), { shared: mode === "shared" });
}

/** Runs `work` holding the migrations lock (see `withSessionLock` for what a failure means). */
export function withMigrationLock<T>(
  client: pg.ClientBase,
  island: number,
  mode: MigrationLockMode,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  return withSessionLock(
    client,
    advisoryLock("migrations"),
    {
      shared: mode === "shared",
      timeoutMs,
      busy: () => new MigrationLockBusyError(island, mode, timeoutMs),
    },
    work,
  );
}
