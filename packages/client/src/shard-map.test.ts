import type { MicroshardState } from "@archipelago/topology";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildShardMap, type CatalogEntry, type Placement, ShardMap } from "./shard-map.js";

const row = (
  island: number,
  microshard: number,
  state: MicroshardState,
  generation = 1,
): CatalogEntry => Object.freeze({ island, microshard, state, generation });

type Rows = Record<number, CatalogEntry[] | undefined>;

/** Builds from literal rows per island (`undefined` = did not answer); the input is deep-frozen. */
function build(rows: Rows, previous: ShardMap = ShardMap.empty) {
  const islands = new Map(
    Object.entries(rows).map(([island, entries]) => [
      Number(island),
      entries && Object.freeze(entries.map((e) => Object.freeze({ ...e }))),
    ]),
  );
  return buildShardMap({ islands, previous });
}

const active = (island: number, generation = 1): Placement => ({
  kind: "active",
  island,
  generation,
});

describe("ShardMap.empty", () => {
  it("has nothing and epoch 0", () => {
    expect(ShardMap.empty.epoch).toBe(0);
    expect(ShardMap.empty.size).toBe(0);
    expect(ShardMap.empty.microshards()).toEqual([]);
    expect(ShardMap.empty.locate(1)).toEqual({ kind: "missing" });
  });
});

describe("buildShardMap", () => {
  it("routes a microshard active on one island there, at its generation", () => {
    const { map, conflicts, unreachable } = build({
      1: [row(1, 10, "active", 1), row(1, 3, "active", 4)],
      2: [row(2, 7, "active", 2)],
    });
    expect(map.locate(10)).toEqual(active(1, 1));
    expect(map.locate(3)).toEqual(active(1, 4));
    expect(map.locate(7)).toEqual(active(2, 2));
    expect(map.locate(8)).toEqual({ kind: "missing" });
    expect(map.microshards()).toEqual([3, 7, 10]);
    expect(map.microshardsOn(1)).toEqual([3, 10]);
    expect(map.microshardsOn(2)).toEqual([7]);
    expect(map.microshardsOn(3)).toEqual([]);
    expect(map.size).toBe(3);
    expect(conflicts).toEqual([]);
    expect(unreachable).toEqual([]);
  });

  it("follows the steps of a move", () => {
    // Copy in progress: the source is still the one active copy.
    expect(
      build({ 1: [row(1, 5, "active", 1)], 2: [row(2, 5, "receiving", 1)] }).map.locate(5),
    ).toEqual(active(1, 1));
    // The switch window: sent on the source, the target not yet active.
    expect(
      build({ 1: [row(1, 5, "sent", 2)], 2: [row(2, 5, "receiving", 1)] }).map.locate(5),
    ).toEqual({
      kind: "in-motion",
      generation: 2,
    });
    // Switched: the target is active.
    expect(build({ 1: [row(1, 5, "sent", 2)], 2: [row(2, 5, "active", 2)] }).map.locate(5)).toEqual(
      active(2, 2),
    );
    // Cleaned up.
    expect(
      build({ 1: [row(1, 5, "garbage", 2)], 2: [row(2, 5, "active", 2)] }).map.locate(5),
    ).toEqual(active(2, 2));
  });

  it("counts garbage and malformed rows as nothing", () => {
    const { map } = build({
      1: [
        row(1, 1, "garbage", 3),
        row(1, 2, "active", 0),
        row(1, 3, "active", 1.5),
        row(1, 4, "moving" as MicroshardState, 1),
        row(1, 5, "receiving", Number.NaN),
        { island: 1, microshard: -1, state: "active", generation: 1 },
        null as unknown as CatalogEntry,
      ],
    });
    for (const m of [1, 2, 3, 4, 5, -1]) expect(map.locate(m)).toEqual({ kind: "missing" });
    expect(map.size).toBe(0);
  });

  it("ignores rows that name another island than the one that returned them", () => {
    const { map } = build({ 1: [row(2, 9, "active", 1)], 2: [] });
    expect(map.locate(9)).toEqual({ kind: "missing" });
  });

  it("takes the newest generation when one island repeats a microshard", () => {
    const { map, conflicts } = build({ 1: [row(1, 9, "active", 1), row(1, 9, "active", 3)] });
    expect(map.locate(9)).toEqual(active(1, 3));
    expect(conflicts).toEqual([]);
  });

  it("never routes to two islands: keeps the previous placement and reports the conflict", () => {
    const before = build({ 1: [row(1, 5, "active", 2), row(1, 6, "sent", 3)], 3: [] }).map;
    const { map, conflicts } = build(
      {
        1: [row(1, 5, "active", 2), row(1, 6, "active", 3)],
        2: [row(2, 5, "active", 3), row(2, 6, "active", 3), row(2, 8, "active", 1)],
        3: [row(3, 8, "active", 1)],
      },
      before,
    );
    expect(map.locate(5)).toEqual(active(1, 2)); // the previous active placement
    expect(map.locate(6)).toEqual({ kind: "in-motion", generation: 3 }); // previous: in motion
    expect(map.locate(8)).toEqual({ kind: "missing" }); // previous: missing
    expect(conflicts).toEqual([
      { microshard: 5, islands: [1, 2] },
      { microshard: 6, islands: [1, 2] },
      { microshard: 8, islands: [2, 3] },
    ]);
  });

  it("keeps routing to an island that did not answer, rather than calling its microshards missing", () => {
    const before = build({
      1: [row(1, 1, "active", 1)],
      2: [row(2, 2, "active", 1), row(2, 3, "active", 1)],
    }).map;
    const { map, unreachable } = build({ 1: [row(1, 1, "active", 1)], 2: undefined }, before);
    expect(unreachable).toEqual([2]);
    expect(map.locate(2)).toEqual(active(2, 1));
    expect(map.locate(3)).toEqual(active(2, 1));
    expect(map.microshardsOn(2)).toEqual([2, 3]);
  });

  it("prefers an answering island's active row over a kept placement", () => {
    const before = build({ 2: [row(2, 4, "active", 1)] }).map;
    const { map } = build({ 1: [row(1, 4, "active", 2)], 2: undefined }, before);
    expect(map.locate(4)).toEqual(active(1, 2));
  });

  it("keeps the unreachable island's placement over a move seen half-way from elsewhere", () => {
    const before = build({ 2: [row(2, 4, "active", 1)] }).map;
    const { map } = build({ 1: [row(1, 4, "receiving", 1)], 2: undefined }, before);
    expect(map.locate(4)).toEqual(active(2, 1));
  });

  it("keeps an in-motion microshard in motion while some island did not answer", () => {
    const before = build({ 1: [row(1, 5, "sent", 2)], 2: [] }).map;
    expect(before.locate(5)).toEqual({ kind: "in-motion", generation: 2 });
    expect(build({ 1: undefined, 2: [] }, before).map.locate(5)).toEqual({
      kind: "in-motion",
      generation: 2,
    });
    expect(build({ 1: [], 2: [] }, before).map.locate(5)).toEqual({ kind: "missing" });
  });

  it("forgets placements on islands that are no longer asked (removed from the config)", () => {
    const before = build({ 1: [row(1, 1, "active", 1)], 2: [row(2, 2, "active", 1)] }).map;
    const { map, unreachable } = build({ 1: [row(1, 1, "active", 1)] }, before);
    expect(map.locate(2)).toEqual({ kind: "missing" });
    expect(unreachable).toEqual([]);
  });

  it("counts epochs locally, one per build", () => {
    const a = build({ 1: [] }).map;
    const b = build({ 1: [] }, a).map;
    const c = build({ 1: undefined }, b).map;
    expect([a.epoch, b.epoch, c.epoch]).toEqual([1, 2, 3]);
  });

  it("returns frozen results and leaves the previous map unchanged", () => {
    const before = build({ 1: [row(1, 1, "active", 1)] }).map;
    const { map, conflicts, unreachable } = build({ 1: [row(1, 1, "sent", 2)] }, before);
    expect(before.locate(1)).toEqual(active(1, 1));
    expect(map.locate(1)).toEqual({ kind: "in-motion", generation: 2 });
    expect(Object.isFrozen(conflicts)).toBe(true);
    expect(Object.isFrozen(unreachable)).toBe(true);
    expect(Object.isFrozen(map.locate(1))).toBe(true);
    const list = map.microshards();
    list.push(99);
    expect(map.microshards()).toEqual([]);
  });
});

describe("buildShardMap properties", () => {
  const ISLANDS = [1, 2, 3, 4];
  const states = fc.constantFrom<MicroshardState>("active", "receiving", "sent", "garbage");
  const catalogRow = (island: number) =>
    fc.record({
      island: fc.oneof(
        { weight: 9, arbitrary: fc.constant(island) },
        { weight: 1, arbitrary: fc.constantFrom(...ISLANDS) },
      ),
      microshard: fc.integer({ min: 1, max: 8 }),
      state: fc.oneof(
        { weight: 9, arbitrary: states },
        { weight: 1, arbitrary: fc.constant("bogus" as MicroshardState) },
      ),
      generation: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 1, max: 4 }) },
        { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5) },
      ),
    });
  const round = fc
    .tuple(
      ...ISLANDS.map((island) =>
        fc.option(fc.array(catalogRow(island), { maxLength: 8 }), { nil: undefined, freq: 4 }),
      ),
    )
    .map((answers) => new Map(ISLANDS.map((island, i) => [island, answers[i]] as const)));

  const deepFreeze = (islands: Map<number, CatalogEntry[] | undefined>) => {
    for (const rows of islands.values()) {
      for (const r of rows ?? []) Object.freeze(r);
      if (rows) Object.freeze(rows);
    }
    return islands;
  };

  it("places a microshard on an island only where that island's rows say active, unless kept", () => {
    fc.assert(
      fc.property(fc.array(round, { minLength: 1, maxLength: 4 }), (rounds) => {
        let previous = ShardMap.empty;
        for (const islands of rounds) {
          const snapshot = JSON.stringify([...islands]);
          const { map, conflicts, unreachable } = buildShardMap({
            islands: deepFreeze(islands),
            previous,
          });
          expect(JSON.stringify([...islands])).toBe(snapshot);

          const liveActive = (m: number) =>
            [...islands]
              .filter(([island, rows]) =>
                rows?.some(
                  (r) =>
                    r.island === island &&
                    r.microshard === m &&
                    r.state === "active" &&
                    Number.isInteger(r.generation) &&
                    r.generation >= 1,
                ),
              )
              .map(([island]) => island);
          const conflicted = new Set(conflicts.map((c) => c.microshard));

          for (let m = 1; m <= 8; m++) {
            const islandsActive = liveActive(m);
            expect(conflicted.has(m)).toBe(islandsActive.length > 1);
            const placement = map.locate(m);
            const wasKept = JSON.stringify(previous.locate(m)) === JSON.stringify(placement);
            if (placement.kind === "in-motion") {
              const moving = [...islands].some(([island, rows]) =>
                rows?.some(
                  (r) =>
                    r.island === island &&
                    r.microshard === m &&
                    (r.state === "receiving" || r.state === "sent") &&
                    r.generation === placement.generation,
                ),
              );
              expect(moving || wasKept).toBe(true);
            }
            if (placement.kind === "missing" && !conflicted.has(m)) {
              const live = [...islands].some(([island, rows]) =>
                rows?.some(
                  (r) =>
                    r.island === island &&
                    r.microshard === m &&
                    ["active", "receiving", "sent"].includes(r.state) &&
                    Number.isInteger(r.generation) &&
                    r.generation >= 1,
                ),
              );
              expect(live).toBe(false);
            }
            if (placement.kind !== "active") continue;
            const fresh = islandsActive.length === 1 && islandsActive[0] === placement.island;
            const kept = wasKept && (conflicted.has(m) || unreachable.includes(placement.island));
            expect(fresh || kept).toBe(true);
            if (fresh) {
              const rows = islands.get(placement.island) ?? [];
              const generations = rows
                .filter(
                  (r) =>
                    r.microshard === m && r.state === "active" && r.island === placement.island,
                )
                .map((r) => r.generation);
              expect(generations).toContain(placement.generation);
            }
          }
          expect(unreachable).toEqual(ISLANDS.filter((i) => islands.get(i) === undefined));
          expect(map.epoch).toBe(previous.epoch + 1);
          expect(map.microshards()).toEqual([...map.microshards()].sort((a, b) => a - b));
          expect(ISLANDS.flatMap((i) => map.microshardsOn(i)).sort((a, b) => a - b)).toEqual(
            map.microshards(),
          );
          previous = map;
        }
      }),
    );
  });

  it("with every island answering and no conflict, depends only on the rows", () => {
    fc.assert(
      fc.property(round, round, (r1, r2) => {
        const islands = new Map([...r2].map(([i, rows]) => [i, rows ?? []] as const));
        const fromEmpty = buildShardMap({ islands, previous: ShardMap.empty });
        const fromOther = buildShardMap({
          islands,
          previous: buildShardMap({ islands: r1, previous: ShardMap.empty }).map,
        });
        if (fromEmpty.conflicts.length > 0) return;
        for (let m = 1; m <= 8; m++) {
          expect(fromOther.map.locate(m)).toEqual(fromEmpty.map.locate(m));
        }
      }),
    );
  });
});
