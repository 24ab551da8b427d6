import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_MOVE_LIMITS, type ScheduledMove, scheduleMoves } from "./schedule-moves.js";

const move = (jobId: number, source: number, target: number, bytes = 1000): ScheduledMove => ({
  jobId,
  source,
  target,
  bytes,
});

describe("scheduleMoves", () => {
  it("starts no more than the parallel limit", () => {
    const schedule = scheduleMoves({
      candidates: [move(1, 1, 2), move(2, 3, 4), move(3, 5, 6)],
      running: [],
      limits: { ...DEFAULT_MOVE_LIMITS, maxParallelMoves: 2 },
      copyAdmittedUntil: 0,
      now: 0,
    });
    expect(schedule.start).toEqual([1, 2]);
  });

  it("counts both islands of a move, and skips a busy island without blocking others", () => {
    const schedule = scheduleMoves({
      candidates: [move(1, 1, 3), move(2, 2, 3), move(3, 2, 4)],
      running: [],
      limits: { ...DEFAULT_MOVE_LIMITS, maxParallelMoves: 5 },
      copyAdmittedUntil: 0,
      now: 0,
    });
    expect(schedule.start).toEqual([1, 3]);
  });

  it("counts moves already running elsewhere", () => {
    const schedule = scheduleMoves({
      candidates: [move(1, 1, 3), move(2, 2, 4)],
      running: [{ source: 3, target: 5 }],
      limits: { ...DEFAULT_MOVE_LIMITS, maxParallelMoves: 2 },
      copyAdmittedUntil: 0,
      now: 0,
    });
    expect(schedule.start).toEqual([2]);
  });

  it("admits copies no faster than the copy rate", () => {
    const limits = { maxParallelMoves: 10, maxMovesPerIsland: 10, copyBytesPerSecond: 1000 };
    const first = scheduleMoves({
      candidates: [move(1, 1, 2, 5000), move(2, 3, 4, 5000)],
      running: [],
      limits,
      copyAdmittedUntil: 0,
      now: 10_000,
    });
    expect(first).toEqual({ start: [1], copyAdmittedUntil: 15_000 });
    const tooSoon = scheduleMoves({
      candidates: [move(2, 3, 4, 5000)],
      running: [],
      limits,
      copyAdmittedUntil: first.copyAdmittedUntil,
      now: 14_000,
    });
    expect(tooSoon.start).toEqual([]);
    const later = scheduleMoves({
      candidates: [move(2, 3, 4, 5000)],
      running: [],
      limits,
      copyAdmittedUntil: first.copyAdmittedUntil,
      now: 15_000,
    });
    expect(later.start).toEqual([2]);
  });

  it("never exceeds either limit (property)", () => {
    const pair = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
      .filter(([a, b]) => a !== b);
    fc.assert(
      fc.property(
        fc.array(pair, { maxLength: 30 }),
        fc.array(pair, { maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        (pairs, runningPairs, maxParallelMoves, maxMovesPerIsland) => {
          const running = runningPairs.map(([source, target]) => ({ source, target }));
          const candidates = pairs.map(([s, t], i) => move(i + 1, s, t));
          const limits = { maxParallelMoves, maxMovesPerIsland, copyBytesPerSecond: null };
          const { start } = scheduleMoves({
            candidates,
            running,
            limits,
            copyAdmittedUntil: 0,
            now: 0,
          });
          const started = candidates.filter((c) => start.includes(c.jobId));
          if (started.length > 0) {
            expect(running.length + started.length).toBeLessThanOrEqual(maxParallelMoves);
          }
          const touching = (moves: readonly { source: number; target: number }[], i: number) =>
            moves.filter((m) => m.source === i || m.target === i).length;
          for (let island = 1; island <= 6; island++) {
            if (touching(started, island) === 0) continue;
            expect(touching(running, island) + touching(started, island)).toBeLessThanOrEqual(
              maxMovesPerIsland,
            );
          }
        },
      ),
    );
  });
});
