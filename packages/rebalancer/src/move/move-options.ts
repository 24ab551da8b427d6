/**
 * The mover's tunables, each with its default and why.
 */
export interface MoveOptions {
  /** How long the switch waits for write locks on the source tables before giving up for now. @default 2000 */
  readonly lockTimeoutMs: number;
  /** Hard limit on the write block: locks held while waiting for the target to confirm the final position. @default 5000 */
  readonly switchDeadlineMs: number;
  /** Switch attempts (each bounded by the two limits above) before the move is aborted. @default 5 */
  readonly switchAttempts: number;
  /** Replication lag (bytes) under which catch-up is done and the switch may start. @default 1048576 */
  readonly catchUpMaxLagBytes: number;
  /** How long a step may keep failing on unreachable islands before the move gives up. @default 60000 */
  readonly stepRetryDeadlineMs: number;
  /** How long to wait for the target island's replicas to replay the copy before activating. @default 30000 */
  readonly replicaReplayDeadlineMs: number;
  /** Compare row counts and checksums of every table under the write lock. @default false */
  readonly verify: boolean;
  /** How long creating the replication slot may wait for the source's open transactions. @default 30000 */
  readonly slotCreationTimeoutMs: number;
  /** Polling period of the waits. @default 50 */
  readonly pollMs: number;
}

export const DEFAULT_MOVE_OPTIONS: MoveOptions = Object.freeze({
  lockTimeoutMs: 2_000,
  switchDeadlineMs: 5_000,
  switchAttempts: 5,
  catchUpMaxLagBytes: 1_048_576,
  stepRetryDeadlineMs: 60_000,
  replicaReplayDeadlineMs: 30_000,
  verify: false,
  slotCreationTimeoutMs: 30_000,
  pollMs: 50,
});
