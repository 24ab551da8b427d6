import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IllegalTransitionError } from "./errors.js";
import {
  ABSENT,
  assertTransition,
  checkPlacementInvariant,
  isReadable,
  isWritable,
  MICROSHARD_EVENTS,
  MICROSHARD_STATES,
  MICROSHARD_TRANSITIONS,
  type MicroshardEvent,
  type MicroshardState,
  type MicroshardStateOrAbsent,
  type PlacementRow,
  transition,
} from "./microshard-state.js";

const ALL_STATES: readonly MicroshardStateOrAbsent[] = [ABSENT, ...MICROSHARD_STATES];

describe("transition table", () => {
  it.each(MICROSHARD_TRANSITIONS.map((e) => [e.from, e.event, e.to, e]))(
    "%s --%s--> %s",
    (from, event, to, edge) => {
      expect(transition(from, event)).toEqual({ to, generationDelta: edge.generationDelta });
      expect(assertTransition(from, to)).toBe(edge);
    },
  );

  it("throws IllegalTransitionError for every pair that is not an edge", () => {
    let checked = 0;
    for (const from of ALL_STATES) {
      for (const event of MICROSHARD_EVENTS) {
        if (MICROSHARD_TRANSITIONS.some((e) => e.from === from && e.event === event)) continue;
        expect(() => transition(from, event)).toThrow(IllegalTransitionError);
        checked++;
      }
      for (const to of ALL_STATES) {
        if (MICROSHARD_TRANSITIONS.some((e) => e.from === from && e.to === to)) continue;
        expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
      }
    }
    expect(checked).toBe(
      ALL_STATES.length * MICROSHARD_EVENTS.length - MICROSHARD_TRANSITIONS.length,
    );
  });

  it("rejects unknown states and events from untyped input", () => {
    expect(() => transition("moving" as MicroshardState, "send")).toThrow(IllegalTransitionError);
    expect(() => transition("active", "teleport" as MicroshardEvent)).toThrow(/"teleport"/);
  });

  it("is frozen data with one edge per (from, event) and per (from, to)", () => {
    expect(Object.isFrozen(MICROSHARD_TRANSITIONS)).toBe(true);
    expect(MICROSHARD_TRANSITIONS.every((e) => Object.isFrozen(e))).toBe(true);
    const keys = MICROSHARD_TRANSITIONS.map((e) => `${e.from}:${e.event}`);
    expect(new Set(keys).size).toBe(keys.length);
    const pairs = MICROSHARD_TRANSITIONS.map((e) => `${e.from}:${e.to}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it("bumps the generation exactly on allocate, send and activate", () => {
    const bumps = MICROSHARD_TRANSITIONS.filter((e) => e.generationDelta === 1).map((e) => e.event);
    expect(bumps.sort()).toEqual(["activate", "allocate", "send"]);
  });

  it("lets only an active copy be read or written", () => {
    for (const state of ALL_STATES) {
      expect(isReadable(state)).toBe(state === "active");
      expect(isWritable(state)).toBe(state === "active");
    }
  });

  it("never leaves the known states on a random walk from absent", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...MICROSHARD_EVENTS), { maxLength: 50 }), (events) => {
        let state: MicroshardStateOrAbsent = ABSENT;
        let generation = 0;
        for (const event of events) {
          const legal = MICROSHARD_TRANSITIONS.some((e) => e.from === state && e.event === event);
          if (!legal) {
            expect(() => transition(state, event)).toThrow(IllegalTransitionError);
            continue;
          }
          const next = transition(state, event);
          assertTransition(state, next.to);
          state = next.to;
          generation = state === ABSENT ? 0 : generation + next.generationDelta;
          expect(ALL_STATES).toContain(state);
          if (state === "active" || state === "sent") expect(generation).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});

/** Two islands' catalogs for one microshard, changed only through `transition`. */
class TwoIslands {
  readonly rows = new Map<number, { state: MicroshardStateOrAbsent; generation: number }>([
    [1, { state: ABSENT, generation: 0 }],
    [2, { state: ABSENT, generation: 0 }],
  ]);

  apply(island: number, event: MicroshardEvent, baseGeneration?: number): void {
    const row = this.rows.get(island) ?? { state: ABSENT, generation: 0 };
    const next = transition(row.state, event);
    const base = baseGeneration ?? row.generation;
    this.rows.set(island, { state: next.to, generation: base + next.generationDelta });
  }

  generation(island: number): number {
    return this.rows.get(island)?.generation ?? 0;
  }

  catalog(): PlacementRow[] {
    return [...this.rows]
      .filter(([, r]) => r.state !== ABSENT)
      .map(([island, r]) => ({
        island,
        microshard: 7,
        state: r.state as MicroshardState,
        generation: r.generation,
      }));
  }

  activeIslands(): number[] {
    return this.catalog()
      .filter((r) => r.state === "active")
      .map((r) => r.island);
  }
}

describe("a move across two islands", () => {
  it("keeps the invariant at every step and is never active on two islands", () => {
    const c = new TwoIslands();
    const steps: [number, MicroshardEvent, (() => number)?][] = [
      [1, "allocate"],
      [2, "begin-receive", () => c.generation(1)],
      [1, "send"], // the switch window opens: active nowhere
      [2, "activate"],
      [1, "expire"],
      [1, "drop"],
    ];
    const activeCounts: number[] = [];
    for (const [island, event, base] of steps) {
      c.apply(island, event, base?.());
      expect(checkPlacementInvariant(c.catalog())).toEqual([]);
      activeCounts.push(c.activeIslands().length);
    }
    expect(activeCounts).toEqual([1, 1, 0, 1, 1, 1]);
    expect(c.activeIslands()).toEqual([2]);
    expect(c.generation(2)).toBe(2);
  });

  it("agrees on the generation: the target activates at the source's sent generation", () => {
    const c = new TwoIslands();
    c.apply(1, "allocate");
    c.apply(2, "begin-receive", c.generation(1));
    c.apply(1, "send");
    c.apply(2, "activate");
    expect(c.rows.get(1)).toEqual({ state: "sent", generation: 2 });
    expect(c.rows.get(2)).toEqual({ state: "active", generation: 2 });
  });

  it("keeps the invariant when the move is aborted before the switch", () => {
    const c = new TwoIslands();
    c.apply(1, "allocate");
    c.apply(2, "begin-receive", c.generation(1));
    for (const event of ["abort-receive", "drop"] as const) {
      c.apply(2, event);
      expect(checkPlacementInvariant(c.catalog())).toEqual([]);
      expect(c.activeIslands()).toEqual([1]);
    }
  });

  it("catches the wrong order: activating the target before sending the source", () => {
    const c = new TwoIslands();
    c.apply(1, "allocate");
    c.apply(2, "begin-receive", c.generation(1));
    c.apply(2, "activate");
    expect(checkPlacementInvariant(c.catalog()).map((v) => v.kind)).toEqual([
      "active-on-two-islands",
    ]);
  });
});

describe("checkPlacementInvariant", () => {
  const row = (island: number, state: MicroshardState, generation: number, microshard = 1) => ({
    island,
    microshard,
    state,
    generation,
  });

  it("is empty for healthy placements and does not modify its input", () => {
    const rows = Object.freeze([row(1, "active", 3), row(2, "garbage", 1), row(2, "active", 1, 2)]);
    expect(checkPlacementInvariant(rows)).toEqual([]);
  });

  it.each([
    ["active on two islands", [row(1, "active", 2), row(2, "active", 3)], "active-on-two-islands"],
    [
      "two actives with equal generation",
      [row(1, "active", 2), row(2, "active", 2)],
      "active-on-two-islands",
    ],
    [
      "an active copy older than a sent one",
      [row(1, "sent", 3), row(2, "active", 2)],
      "stale-active",
    ],
    [
      "two sent at one generation",
      [row(1, "sent", 2), row(2, "sent", 2), row(3, "active", 2)],
      "sent-generation-reused",
    ],
    ["sent with nothing to roll forward to", [row(1, "sent", 2)], "no-roll-forward-target"],
    [
      "sent with a stale receiving copy",
      [row(1, "sent", 4), row(2, "receiving", 1)],
      "no-roll-forward-target",
    ],
    ["two rows on one island", [row(1, "active", 1), row(1, "garbage", 1)], "duplicate-row"],
    ["generation 0", [row(1, "active", 0)], "invalid-row"],
    ["an unknown state", [row(1, "absent" as MicroshardState, 1)], "invalid-row"],
  ])("reports %s", (_name, rows, kind) => {
    const violations = checkPlacementInvariant(rows);
    expect(violations.map((v) => v.kind)).toContain(kind);
    expect(violations.every((v) => v.microshard === 1)).toBe(true);
  });

  it("names equal generations and the islands involved", () => {
    const [violation] = checkPlacementInvariant([row(4, "active", 2), row(9, "active", 2)]);
    expect(violation?.islands).toEqual([4, 9]);
    expect(violation?.message).toMatch(/equal generations/);
  });

  it("accepts the switch window: sent, the target receiving at the previous generation", () => {
    expect(checkPlacementInvariant([row(1, "sent", 5), row(2, "receiving", 4)])).toEqual([]);
  });

  it("orders violations by microshard", () => {
    const rows = [row(1, "sent", 2, 30), row(1, "sent", 2, 10), row(1, "sent", 2, 20)];
    expect(checkPlacementInvariant(rows).map((v) => v.microshard)).toEqual([10, 20, 30]);
  });
});
