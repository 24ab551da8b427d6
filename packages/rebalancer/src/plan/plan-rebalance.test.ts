import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  balanceOf,
  InvalidPlanInputError,
  type PlanIsland,
  type PlanMicroshard,
  planRebalance,
  type RebalanceInput,
  type RebalancePlan,
} from "./plan-rebalance.js";

const EDGE = 1e-9;

function island(n: number, weight = 1, draining = false): PlanIsland {
  return { island: n, weight, draining };
}

/** `count` microshards of `bytes` each on `on`, numbered from `first`. */
function shards(first: number, count: number, on: number, bytes: number): PlanMicroshard[] {
  return Array.from({ length: count }, (_, k) => ({ microshard: first + k, island: on, bytes }));
}

/** Where every microshard is after the plan's moves, checking each move against the placement. */
function replay(input: RebalanceInput, plan: RebalancePlan): PlanMicroshard[] {
  const at = new Map(input.microshards.map((m) => [m.microshard, m]));
  for (const move of plan.moves) {
    const m = at.get(move.microshard);
    expect(m, `microshard ${move.microshard} exists`).toBeDefined();
    expect(move.from).toBe(m?.island);
    expect(move.bytes).toBe(m?.bytes);
    at.set(move.microshard, { ...(m as PlanMicroshard), island: move.to });
  }
  return [...at.values()];
}

function bytesOn(plan: RebalancePlan, n: number, when: "before" | "after" = "after"): number {
  return plan[when].islands.find((i) => i.island === n)?.bytes ?? Number.NaN;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe("planRebalance: literal cases", () => {
  it("plans nothing for islands that are already even", () => {
    const plan = planRebalance({
      islands: [island(1), island(2), island(3)],
      microshards: [...shards(1, 10, 1, 100), ...shards(11, 10, 2, 100), ...shards(21, 10, 3, 100)],
      threshold: 0.1,
    });
    expect(plan.moves).toEqual([]);
    expect(plan.reachable).toBe(true);
    expect(plan.explanations).toEqual([]);
    expect(plan.before.maxDeviation).toBe(0);
    expect(plan.after).toEqual(plan.before);
  });

  it("fills one new, empty island from the others and moves nothing else", () => {
    const input = {
      islands: [island(1), island(2), island(3), island(4)],
      microshards: [...shards(1, 40, 1, 100), ...shards(41, 40, 2, 100), ...shards(81, 40, 3, 100)],
      threshold: 0,
    };
    const exact = planRebalance(input);
    expect(exact.before.maxDeviation).toBe(1);
    expect(exact.moves.every((m) => m.to === 4)).toBe(true);
    // Each old island gives exactly its excess: its lowest-numbered microshards (all are 100 B, and
    // ties go to the lower number).
    for (const [n, first] of [
      [1, 1],
      [2, 41],
      [3, 81],
    ] as const) {
      expect(exact.moves.filter((m) => m.from === n).map((m) => m.microshard)).toEqual(
        Array.from({ length: 10 }, (_, k) => first + k),
      );
    }
    expect(exact.after.maxDeviation).toBe(0);
    expect(exact.bytesMoved).toBe(3000);
    expect(exact.reachable).toBe(true);
    // Within 5% it stops as soon as every island is in the band: one move fewer.
    const loose = planRebalance({ ...input, threshold: 0.05 });
    expect(loose.moves).toEqual(exact.moves.slice(0, 29));
    expect(loose.after.maxDeviation).toBeCloseTo(1 / 30);
    expect(loose.reachable).toBe(true);
  });

  it("empties a draining island first, onto the least loaded islands", () => {
    const plan = planRebalance({
      islands: [island(1), island(2), island(3, 1, true)],
      microshards: [
        ...shards(1, 10, 1, 100),
        ...shards(11, 8, 2, 100),
        ...shards(21, 6, 3, 100),
        { microshard: 30, island: 3, bytes: 0 },
      ],
      threshold: 0.1,
    });
    expect(plan.moves.map((m) => m.from)).toEqual(Array(7).fill(3));
    // 100 B each, largest first (the empty one last), each onto the island then least loaded.
    expect(plan.moves.map((m) => m.to)).toEqual([2, 2, 1, 2, 1, 2, 1]);
    expect(plan.moves.at(-1)).toEqual({ microshard: 30, from: 3, to: 1, bytes: 0 });
    expect(bytesOn(plan, 1)).toBe(1200);
    expect(bytesOn(plan, 2)).toBe(1200);
    expect(bytesOn(plan, 3)).toBe(0);
    expect(plan.after.islands.find((i) => i.island === 3)?.microshards).toBe(0);
    expect(plan.after.drainingBytes).toBe(0);
    expect(plan.before.drainingBytes).toBe(600);
    expect(plan.reachable).toBe(true);
  });

  it("gives an island of weight 2 twice the data of an island of weight 1", () => {
    const plan = planRebalance({
      islands: [island(1, 2), island(2, 1)],
      microshards: shards(1, 30, 2, 100),
      threshold: 0.01,
    });
    expect(plan.before.islands.map((i) => i.target)).toEqual([2000, 1000]);
    expect(bytesOn(plan, 1)).toBe(2000);
    expect(bytesOn(plan, 2)).toBe(1000);
    expect(plan.moves).toHaveLength(20);
    expect(plan.after.imbalance).toBe(1);
  });

  it("explains a microshard bigger than any island's share and still does what it can", () => {
    const input = {
      islands: [island(1), island(2), island(3)],
      microshards: [
        { microshard: 7, island: 1, bytes: 5000 },
        ...shards(10, 20, 1, 100),
        ...shards(30, 10, 2, 100),
      ],
      threshold: 0.1,
    };
    const plan = planRebalance(input);
    expect(plan.reachable).toBe(false);
    expect(plan.moves.some((m) => m.microshard === 7)).toBe(false);
    // Island 1 sheds all its small microshards; the others share them.
    expect(plan.moves.filter((m) => m.from === 1)).toHaveLength(20);
    expect(bytesOn(plan, 1)).toBe(5000);
    expect(plan.after.maxDeviation).toBeLessThan(plan.before.maxDeviation);
    expect(plan.explanations[0]).toMatch(
      /^Microshard 7 \(4\.9 kB\) is larger than any island's share/,
    );
    expect(plan.explanations.some((e) => e.startsWith("Island 1 ends"))).toBe(true);
  });

  it("never moves pinned microshards or shard 0, and says why an island stays over", () => {
    const plan = planRebalance({
      islands: [island(1), island(2)],
      microshards: [
        { microshard: 0, island: 1, bytes: 300 },
        { microshard: 1, island: 1, bytes: 400, pinned: true },
        { microshard: 2, island: 1, bytes: 100 },
        { microshard: 3, island: 2, bytes: 0 },
      ],
      threshold: 0.1,
    });
    expect(plan.moves).toEqual([{ microshard: 2, from: 1, to: 2, bytes: 100 }]);
    expect(plan.reachable).toBe(false);
    expect(plan.explanations).toEqual([
      "Island 1 ends 75% over its target (700 B of 400 B): its pinned microshards alone (0, 1; 700 B) exceed its band.",
      "Island 2 ends 75% under its target (100 B of 400 B): no island above its target has a microshard that may move.",
    ]);
  });

  it("plans nothing for no islands and no microshards", () => {
    const plan = planRebalance({ islands: [], microshards: [], threshold: 0.1 });
    expect(plan).toEqual({
      moves: [],
      bytesMoved: 0,
      before: { islands: [], maxDeviation: 0, imbalance: null, drainingBytes: 0 },
      after: { islands: [], maxDeviation: 0, imbalance: null, drainingBytes: 0 },
      reachable: true,
      explanations: [],
    });
  });

  it("treats islands with no data as even", () => {
    const plan = planRebalance({ islands: [island(1), island(2)], microshards: [], threshold: 0 });
    expect(plan.moves).toEqual([]);
    expect(plan.reachable).toBe(true);
    expect(plan.before.islands.map((i) => i.load)).toEqual([1, 1]);
  });

  it("explains microshards too coarse for the band", () => {
    const plan = planRebalance({
      islands: [island(1), island(2)],
      microshards: shards(1, 3, 1, 40),
      threshold: 0.1,
    });
    // Targets are 60 B; three 40 B microshards split 80/40 at best.
    expect(plan.moves).toEqual([{ microshard: 1, from: 1, to: 2, bytes: 40 }]);
    expect(plan.after.maxDeviation).toBeCloseTo(1 / 3);
    expect(plan.explanations).toEqual([
      "Island 1 ends 33.33% over its target (80 B of 60 B): its smallest movable microshard (40 B) would overfill the islands below their targets (most room within the band: 26 B) or leave them further apart.",
      "Island 2 ends 33.33% under its target (40 B of 60 B): it needs 14 B more, and the smallest microshard an island above its target could give (40 B) would overfill it or leave that island further off.",
    ]);
  });

  it("moves the fewest bytes that bring a pair into the band", () => {
    // Target 100 each; island 1 is 12% over, island 2 12% under: the 2-byte microshard is enough.
    const plan = planRebalance({
      islands: [island(1), island(2)],
      microshards: [
        { microshard: 1, island: 1, bytes: 12 },
        { microshard: 2, island: 1, bytes: 2 },
        { microshard: 3, island: 1, bytes: 98 },
        { microshard: 4, island: 2, bytes: 88 },
      ],
      threshold: 0.1,
    });
    expect(plan.moves).toEqual([{ microshard: 2, from: 1, to: 2, bytes: 2 }]);
    expect(plan.reachable).toBe(true);
  });

  it("explains pinned data and shard 0 on a draining island", () => {
    const plan = planRebalance({
      islands: [island(1, 1, true), island(2)],
      microshards: [
        { microshard: 0, island: 1, bytes: 10 },
        { microshard: 5, island: 1, bytes: 10, pinned: true },
        { microshard: 6, island: 1, bytes: 10 },
      ],
      threshold: 0.5,
    });
    expect(plan.moves).toEqual([{ microshard: 6, from: 1, to: 2, bytes: 10 }]);
    expect(plan.reachable).toBe(false);
    expect(plan.explanations[0]).toBe(
      "Island 1 is draining but holds shard 0 or pinned microshards (0, 5; 20 B), which the planner never moves: it cannot end empty until they are moved by hand or unpinned.",
    );
  });

  it("explains that every island is draining", () => {
    const plan = planRebalance({
      islands: [island(1, 1, true), island(2, 1, true)],
      microshards: shards(1, 3, 1, 10),
      threshold: 0.1,
    });
    expect(plan.moves).toEqual([]);
    expect(plan.reachable).toBe(false);
    expect(plan.explanations).toEqual([
      "Every island is draining: there is no island to move their microshards to.",
    ]);
  });

  it("stops at maxMoves and says so", () => {
    const input = {
      islands: [island(1), island(2)],
      microshards: shards(1, 10, 1, 100),
      threshold: 0.1,
    };
    const plan = planRebalance({ ...input, maxMoves: 2 });
    expect(plan.moves).toEqual(planRebalance(input).moves.slice(0, 2));
    expect(plan.reachable).toBe(false);
    expect(plan.explanations[0]).toBe(
      "The plan stops at the move limit (2 moves); plan again after running it.",
    );
  });

  it("gives the same plan for the same input in any order, and does not touch the input", () => {
    const islands = [island(3), island(1), island(2, 2)];
    const microshards = [...shards(1, 20, 1, 50), ...shards(21, 5, 3, 70)];
    const frozen = deepFreeze({ islands, microshards, threshold: 0.05 });
    const plan = planRebalance(frozen);
    const reversed = planRebalance({
      islands: [...islands].reverse(),
      microshards: [...microshards].reverse(),
      threshold: 0.05,
    });
    expect(reversed).toEqual(plan);
    expect(plan.before).toEqual(balanceOf(islands, microshards));
  });

  it.each([
    ["a repeated island", { islands: [island(1), island(1)], microshards: [], threshold: 0 }],
    ["a weight of 0", { islands: [island(1, 0)], microshards: [], threshold: 0 }],
    ["a negative threshold", { islands: [], microshards: [], threshold: -0.1 }],
    ["a fractional maxMoves", { islands: [], microshards: [], threshold: 0, maxMoves: 1.5 }],
    ["an unknown island", { islands: [island(1)], microshards: shards(1, 1, 2, 1), threshold: 0 }],
    [
      "a repeated microshard",
      {
        islands: [island(1)],
        microshards: shards(1, 1, 1, 1).concat(shards(1, 1, 1, 1)),
        threshold: 0,
      },
    ],
    ["a negative size", { islands: [island(1)], microshards: shards(1, 1, 1, -1), threshold: 0 }],
  ])("rejects %s with a typed error", (_name, input: RebalanceInput) => {
    expect(() => planRebalance(input)).toThrow(InvalidPlanInputError);
  });
});

// ---------------------------------------------------------------------------------------------------

/** Clusters of 1–8 islands (some draining), up to 80 microshards of mixed sizes, some pinned. */
const clusterInput: fc.Arbitrary<RebalanceInput> = fc
  .record({
    weights: fc.array(
      fc.oneof(fc.integer({ min: 1, max: 4 }), fc.double({ min: 0.1, max: 5, noNaN: true })),
      { minLength: 1, maxLength: 8 },
    ),
    drainingRate: fc.constantFrom(0, 0.2, 0.5),
    microshards: fc.uniqueArray(
      fc.record({
        microshard: fc.integer({ min: 0, max: 9999 }),
        home: fc.nat(),
        bytes: fc.oneof(
          fc.integer({ min: 0, max: 1_000 }),
          fc.integer({ min: 0, max: 100_000 }),
          fc.constant(0),
        ),
        pinRoll: fc.integer({ min: 0, max: 9 }),
      }),
      { maxLength: 80, selector: (m) => m.microshard },
    ),
    drainRolls: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 }),
    threshold: fc.constantFrom(0, 0.01, 0.05, 0.1, 0.25, 0.5),
    maxMoves: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  })
  .map(({ weights, drainingRate, microshards, drainRolls, threshold, maxMoves }) => {
    const planIslands = weights.map((weight, k) => ({
      island: k + 1,
      weight,
      draining: (drainRolls[k] ?? 0) < drainingRate * 10,
    }));
    return {
      islands: planIslands,
      microshards: microshards.map((m) => ({
        microshard: m.microshard,
        island: (m.home % planIslands.length) + 1,
        bytes: m.bytes,
        pinned: m.pinRoll === 0,
      })),
      threshold,
      maxMoves,
    };
  });

const unlimited = clusterInput.map((input) => ({ ...input, maxMoves: undefined }));

function pinnedSet(input: RebalanceInput): Set<number> {
  return new Set(
    input.microshards
      .filter((m) => m.pinned === true || m.microshard === 0)
      .map((m) => m.microshard),
  );
}

describe("planRebalance: properties", () => {
  it("never moves a pinned microshard or shard 0", () => {
    fc.assert(
      fc.property(clusterInput, (input) => {
        const pinned = pinnedSet(input);
        for (const m of planRebalance(input).moves) expect(pinned.has(m.microshard)).toBe(false);
      }),
    );
  });

  it("moves each microshard at most once, from where it is at that point, to a serving island", () => {
    fc.assert(
      fc.property(clusterInput, (input) => {
        const plan = planRebalance(input);
        const draining = new Set(input.islands.filter((i) => i.draining).map((i) => i.island));
        const moved = plan.moves.map((m) => m.microshard);
        expect(new Set(moved).size).toBe(moved.length);
        for (const m of plan.moves) {
          expect(m.to).not.toBe(m.from);
          expect(draining.has(m.to)).toBe(false);
        }
        // replay() checks each move's `from` and `bytes` against the placement at that point.
        const end = replay(input, plan);
        expect(plan.after).toEqual(balanceOf(input.islands, end));
        expect(plan.before).toEqual(balanceOf(input.islands, input.microshards));
        expect(plan.bytesMoved).toBe(plan.moves.reduce((s, m) => s + m.bytes, 0));
        if (input.maxMoves !== undefined)
          expect(plan.moves.length).toBeLessThanOrEqual(input.maxMoves);
      }),
    );
  });

  it("drains first, and no later move raises the max deviation", () => {
    // Precisely: the moves off draining islands come first (they are required and may make the
    // serving islands less even); from the state they leave, every further move keeps the max
    // deviation the same or lower. So with nothing movable on a draining island, the plan never ends
    // less balanced than it started.
    fc.assert(
      fc.property(clusterInput, (input) => {
        const plan = planRebalance(input);
        const draining = new Set(input.islands.filter((i) => i.draining).map((i) => i.island));
        const drains = plan.moves.filter((m) => draining.has(m.from)).length;
        expect(plan.moves.slice(0, drains).every((m) => draining.has(m.from))).toBe(true);
        let placement = input.microshards;
        let prefix = 0;
        const step = (n: number) => {
          placement = replay(input, { ...plan, moves: plan.moves.slice(0, n) });
          return balanceOf(input.islands, placement).maxDeviation;
        };
        let last = step(drains);
        for (prefix = drains + 1; prefix <= plan.moves.length; prefix++) {
          const now = step(prefix);
          expect(now).toBeLessThanOrEqual(last);
          last = now;
        }
        if (drains === 0)
          expect(plan.after.maxDeviation).toBeLessThanOrEqual(plan.before.maxDeviation);
      }),
    );
  });

  it("empties draining islands of every unpinned microshard", () => {
    fc.assert(
      fc.property(unlimited, (input) => {
        fc.pre(input.islands.some((i) => !i.draining));
        const plan = planRebalance(input);
        const draining = new Set(input.islands.filter((i) => i.draining).map((i) => i.island));
        const pinned = pinnedSet(input);
        for (const m of replay(input, plan)) {
          if (draining.has(m.island)) expect(pinned.has(m.microshard)).toBe(true);
        }
      }),
    );
  });

  it("is reachable exactly when it ends balanced and drained, and explains itself otherwise", () => {
    fc.assert(
      fc.property(clusterInput, (input) => {
        const plan = planRebalance(input);
        const drained = plan.after.islands.every((i) => !i.draining || i.microshards === 0);
        const balanced = plan.after.maxDeviation <= input.threshold + EDGE;
        expect(plan.reachable).toBe(drained && balanced);
        expect(plan.explanations.length === 0).toBe(plan.reachable);
      }),
    );
  });

  it("plans nothing when every island is already within the threshold and nothing drains", () => {
    fc.assert(
      fc.property(clusterInput, (input) => {
        const before = balanceOf(input.islands, input.microshards);
        fc.pre(before.maxDeviation <= input.threshold && before.drainingBytes === 0);
        fc.pre(before.islands.every((i) => !i.draining || i.microshards === 0));
        expect(planRebalance(input).moves).toEqual([]);
      }),
    );
  });

  it("is deterministic: shuffled input gives the same plan; a move limit gives a prefix of it", () => {
    fc.assert(
      fc.property(unlimited, fc.integer({ min: 0, max: 20 }), fc.nat(), (input, limit, seed) => {
        const plan = planRebalance(input);
        const shuffle = <T>(xs: readonly T[]) =>
          xs
            .map((x, k) => ({ x, key: (k * 7919 + seed) % 10007 }))
            .sort((a, b) => a.key - b.key)
            .map((e) => e.x);
        const again = planRebalance({
          ...input,
          islands: shuffle(input.islands),
          microshards: shuffle(input.microshards),
        });
        expect(again).toEqual(plan);
        const limited = planRebalance({ ...input, maxMoves: limit });
        expect(limited.moves).toEqual(plan.moves.slice(0, limit));
      }),
    );
  });
});
