/**
 * Which waiting moves may start now, under the manager's limits. Pure.
 *
 * - At most `maxParallelMoves` moves run at once in the whole cluster.
 * - At most `maxMovesPerIsland` moves touch one island at once; a move touches its source (which
 *   streams the copy) and its target (which writes it), so both count.
 * - With a copy rate set, moves are admitted no faster than the rate on average: a move of B bytes
 *   pushes the next admission B / rate seconds later. (PostgreSQL cannot throttle a subscription's
 *   initial copy, so the rate bounds how fast copies are *started*, which bounds the average.)
 *
 * Candidates are considered in order (oldest job first); a candidate that does not fit is skipped
 * without blocking the ones behind it, so one busy island does not hold up moves elsewhere.
 */

export interface MoveLimits {
  /** @default 2 */
  readonly maxParallelMoves: number;
  /** @default 1 */
  readonly maxMovesPerIsland: number;
  /** Average bytes per second of copying to admit; null for no limit. @default null */
  readonly copyBytesPerSecond: number | null;
}

export const DEFAULT_MOVE_LIMITS: MoveLimits = Object.freeze({
  maxParallelMoves: 2,
  maxMovesPerIsland: 1,
  copyBytesPerSecond: null,
});

export interface ScheduledMove {
  readonly jobId: number;
  readonly source: number;
  readonly target: number;
  /** The microshard's size when last measured (0 if unknown). */
  readonly bytes: number;
}

export interface ScheduleInput {
  /** Waiting moves, in the order they should start. */
  readonly candidates: readonly ScheduledMove[];
  /** Moves running now, in this process or any other. */
  readonly running: readonly Pick<ScheduledMove, "source" | "target">[];
  readonly limits: MoveLimits;
  /** Epoch ms before which no further copy may be admitted (copy-rate limit). */
  readonly copyAdmittedUntil: number;
  readonly now: number;
}

export interface Schedule {
  readonly start: readonly number[];
  readonly copyAdmittedUntil: number;
}

export function scheduleMoves(input: ScheduleInput): Schedule {
  const { limits } = input;
  const perIsland = new Map<number, number>();
  const touch = (island: number) => perIsland.set(island, (perIsland.get(island) ?? 0) + 1);
  for (const move of input.running) {
    touch(move.source);
    touch(move.target);
  }
  let running = input.running.length;
  let admittedUntil = input.copyAdmittedUntil;
  const start: number[] = [];
  for (const move of input.candidates) {
    if (running >= limits.maxParallelMoves) break;
    if (limits.copyBytesPerSecond !== null && admittedUntil > input.now) break;
    const busy = [move.source, move.target].some(
      (island) => (perIsland.get(island) ?? 0) >= limits.maxMovesPerIsland,
    );
    if (busy) continue;
    start.push(move.jobId);
    running += 1;
    touch(move.source);
    touch(move.target);
    if (limits.copyBytesPerSecond !== null) {
      admittedUntil =
        Math.max(admittedUntil, input.now) + (move.bytes / limits.copyBytesPerSecond) * 1000;
    }
  }
  return { start, copyAdmittedUntil: admittedUntil };
}
