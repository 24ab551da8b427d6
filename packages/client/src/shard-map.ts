/**
 * The microshard → island map, built from the islands' catalog rows. Pure: no I/O, inputs never
 * modified; discovery does the reading and hands the rows here.
 *
 * The problem: each island's catalog says what it holds, but a discovery round sees the islands at
 * slightly different moments, some may not answer, and a move's switch leaves a microshard active
 * nowhere for a moment (DESIGN §4). The map must never route one microshard to two islands, and must
 * not turn "could not ask" into "does not exist".
 *
 * The mechanism, per microshard:
 * - active on exactly one answering island → routed there, at that row's generation;
 * - active on two or more → the catalogs contradict the move protocol; keep whatever the previous map
 *   said and report a conflict, rather than pick one (a wrong pick reads a frozen copy or loses writes);
 * - not active on any answering island, but previously routed to an island that did not answer → keep
 *   that placement: the island may be briefly down, and its own errors (connection refused, failover)
 *   are the right thing for a query to meet, not a false "missing";
 * - otherwise receiving or sent somewhere (or previously in motion while some island did not answer)
 *   → in motion: the switch window, callers retry until it settles;
 * - otherwise missing. `garbage` rows, malformed rows and rows that name another island count as
 *   nothing.
 *
 * Rejected: deriving placement from schema names (a half-copied schema exists on two islands during a
 * move) and letting a newer generation win a two-active conflict (generations come from the same
 * catalogs that are contradicting each other; an operator should look).
 */
import { isMicroshardState, type MicroshardState } from "@archipelago/topology";

/** One catalog row of one island. */
export interface CatalogEntry {
  readonly island: number;
  readonly microshard: number;
  readonly state: MicroshardState;
  readonly generation: number;
}

export type Placement =
  | { readonly kind: "active"; readonly island: number; readonly generation: number }
  /** Rows exist (receiving/sent) but none active: the switch window; retry. */
  | { readonly kind: "in-motion"; readonly generation: number }
  /** No island has a live row (absent or only garbage). */
  | { readonly kind: "missing" };

export interface MapConflict {
  readonly microshard: number;
  readonly islands: readonly number[];
}

const MISSING: Placement = Object.freeze({ kind: "missing" });

// Module-private access for `buildShardMap`, so that a map can only be built from catalog rows.
let createMap: (placements: ReadonlyMap<number, Placement>, epoch: number) => ShardMap;
let placementsOf: (map: ShardMap) => ReadonlyMap<number, Placement>;

export class ShardMap {
  /** The map before the first discovery: every microshard missing, epoch 0. */
  static readonly empty: ShardMap = new ShardMap(new Map(), 0);

  static {
    createMap = (placements, epoch) => new ShardMap(placements, epoch);
    placementsOf = (map) => map.#placements;
  }

  readonly #placements: ReadonlyMap<number, Placement>;
  /** Increments with every build (a local counter, not the catalog's cluster-map epoch). */
  readonly epoch: number;

  private constructor(placements: ReadonlyMap<number, Placement>, epoch: number) {
    this.#placements = placements;
    this.epoch = epoch;
  }

  locate(microshard: number): Placement {
    return this.#placements.get(microshard) ?? MISSING;
  }

  /** Active microshards, ascending. */
  microshards(): number[] {
    return this.#active().map(([m]) => m);
  }

  /** Microshards active on the island, ascending. */
  microshardsOn(island: number): number[] {
    return this.#active()
      .filter(([, p]) => p.island === island)
      .map(([m]) => m);
  }

  /** Number of active microshards. */
  get size(): number {
    let n = 0;
    for (const p of this.#placements.values()) if (p.kind === "active") n++;
    return n;
  }

  #active(): [number, ActivePlacement][] {
    const out: [number, ActivePlacement][] = [];
    for (const [m, p] of this.#placements) if (p.kind === "active") out.push([m, p]);
    return out.sort((a, b) => a[0] - b[0]);
  }
}

type ActivePlacement = Extract<Placement, { kind: "active" }>;

/** What the answering islands say about one microshard. */
interface Sightings {
  /** island → generation of its active row */
  readonly activeOn: Map<number, number>;
  /** The newest generation of a receiving or sent row, if any. */
  movingGeneration: number | undefined;
}

const NOTHING_SEEN: Sightings = { activeOn: new Map(), movingGeneration: undefined };

export function buildShardMap(input: {
  /** Each island's rows; `undefined` = the island did not answer this round. */
  readonly islands: ReadonlyMap<number, readonly CatalogEntry[] | undefined>;
  readonly previous: ShardMap;
}): {
  readonly map: ShardMap;
  readonly conflicts: readonly MapConflict[];
  readonly unreachable: readonly number[];
} {
  const { islands, previous } = input;
  const unreachable = [...islands]
    .filter(([, rows]) => rows === undefined)
    .map(([island]) => island)
    .sort(byNumber);
  const unreachableSet = new Set(unreachable);
  const seen = collect(islands);
  const previousPlacements = placementsOf(previous);

  const placements = new Map<number, Placement>();
  const conflicts: MapConflict[] = [];
  const microshards = new Set([...seen.keys(), ...previousPlacements.keys()]);
  for (const m of [...microshards].sort(byNumber)) {
    const s = seen.get(m) ?? NOTHING_SEEN;
    const before = previous.locate(m);
    let placement: Placement;
    if (s.activeOn.size > 1) {
      conflicts.push({
        microshard: m,
        islands: Object.freeze([...s.activeOn.keys()].sort(byNumber)),
      });
      placement = before;
    } else if (s.activeOn.size === 1) {
      const [island, generation] = [...s.activeOn][0] as [number, number];
      placement = Object.freeze({ kind: "active", island, generation });
    } else if (before.kind === "active" && unreachableSet.has(before.island)) {
      placement = before; // its island did not answer: keep routing there
    } else if (s.movingGeneration !== undefined) {
      placement = Object.freeze({ kind: "in-motion", generation: s.movingGeneration });
    } else if (before.kind === "in-motion" && unreachable.length > 0) {
      placement = before; // the island holding the moving rows may be the one that did not answer
    } else {
      placement = MISSING;
    }
    if (placement.kind !== "missing") placements.set(m, placement);
  }

  return {
    map: createMap(placements, previous.epoch + 1),
    conflicts: Object.freeze(conflicts),
    unreachable: Object.freeze(unreachable),
  };
}

/** The live rows of the answering islands, per microshard. */
function collect(
  islands: ReadonlyMap<number, readonly CatalogEntry[] | undefined>,
): Map<number, Sightings> {
  const seen = new Map<number, Sightings>();
  for (const [island, rows] of islands) {
    for (const row of rows ?? []) {
      if (!isLiveRow(row, island)) continue;
      let s = seen.get(row.microshard);
      if (!s) {
        s = { activeOn: new Map(), movingGeneration: undefined };
        seen.set(row.microshard, s);
      }
      if (row.state === "active") {
        s.activeOn.set(island, Math.max(row.generation, s.activeOn.get(island) ?? 0));
      } else {
        s.movingGeneration = Math.max(row.generation, s.movingGeneration ?? 0);
      }
    }
  }
  return seen;
}

/** Active, receiving or sent, well-formed, and about the island that returned it. */
function isLiveRow(row: CatalogEntry, island: number): boolean {
  return (
    typeof row === "object" &&
    row !== null &&
    row.island === island &&
    Number.isSafeInteger(row.microshard) &&
    row.microshard >= 0 &&
    Number.isSafeInteger(row.generation) &&
    row.generation >= 1 &&
    isMicroshardState(row.state) &&
    row.state !== "garbage"
  );
}

function byNumber(a: number, b: number): number {
  return a - b;
}
