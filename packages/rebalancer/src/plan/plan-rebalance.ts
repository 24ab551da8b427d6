/**
 * Which microshards to move, and where, so that every island holds its weighted share of the data.
 *
 * The problem. Each island that is not draining should hold `total bytes × weight / sum of the weights
 * of the islands that are not draining` (its *target*; the same fair share `archipelago status` measures
 * in `islandImbalance`); a draining island's target is 0 and it must end empty. An island is *within the
 * threshold* `t` when `|bytes − target| ≤ t × target`, i.e. its *load* `bytes / target` is in
 * `[1 − t, 1 + t]`; the plan's measure is the *max deviation* `max |load − 1|` over the islands that are
 * not draining. Microshards are indivisible and moving one costs its bytes, so the plan should reach the
 * band with as few bytes moved as it can. (Exact minimisation is bin packing; this is a greedy.)
 *
 * The mechanism, in two phases, on a private working copy of the input (the input is never mutated):
 *
 * 1. Drain. Every movable microshard on a draining island, largest first, goes to the island that would
 *    have the lowest load after receiving it (largest-first onto the emptiest is the classic LPT rule).
 *    These moves are required, so they may leave the islands less even than before; phase 2 then
 *    repairs what it can.
 * 2. Balance. Repeatedly take the most loaded island `d` above its target and the least loaded island
 *    `r` below its target (below the band when `d` itself is within it) and move one microshard of `d`
 *    that was not moved by this plan. With `gap = min(d over target, r under target)` and `need` the
 *    bytes that would bring whichever of the two is outside the band into it, the choice is, in order:
 *    the smallest microshard in `[need, gap]` (fixes the pair with the fewest bytes); else the largest
 *    not above `gap` (the most progress without either island crossing its target); else the smallest
 *    above `gap`, only if `r` stays within its band and the pair's larger deviation strictly shrinks.
 *    Ties go to the lower microshard number. If `d` can give nothing to the least loaded island, the
 *    other receivers are tried in load order; if none can take anything, `d` is set aside for good
 *    (receivers only fill up, so it could seldom give later, and this bounds the loop by moves +
 *    islands). The loop stops when every island is within the threshold, when no donor is left, or at
 *    `maxMoves`. Whatever stays outside the band is explained, island by island.
 *
 * Invariants, by construction: pinned microshards and shard 0 never move; each microshard moves at most
 * once (a moved microshard is never a candidate again; moving one twice would cost its bytes twice), so
 * every move's `from` is where the microshard is at that point of the plan; drain moves come first; and
 * no balance move raises the max deviation (both islands it touches end no further from their targets
 * than the further of the two was, and no other island changes). Same input in any order → same plan:
 * islands and microshards are sorted by number first and every tie has a numeric tie-break.
 *
 * Cost: sorting, then per move a scan of the islands (to find `d` and `r`) and a binary search in `d`'s
 * sorted microshards: O(m log m + moves × islands). 10,000 microshards over 100 islands take ~6 ms
 * (`bench/planner.bench.ts`); all 10,000 on one island with 99 empty ones, ~60 ms.
 *
 * Rejected: rescanning every microshard of every island per move (O(moves × m), seconds at 10,000);
 * always filling receivers up to the top of their band (fewest bytes, but leaves islands on the edge
 * where the next growth re-triggers a rebalance: receivers are filled at most to their target unless
 * only a larger microshard helps, donors only brought into the band); moving a microshard more than
 * once to fix an earlier greedy choice.
 */
import { ArchipelagoError, GLOBAL_MICROSHARD, microshardNumber } from "@archipelago/topology";
import { formatBytes } from "../internal/format-bytes.js";
import { islandImbalance } from "./island-imbalance.js";

export interface PlanIsland {
  readonly island: number;
  /** Relative capacity: a weight 2 island should hold twice the data of a weight 1 island. */
  readonly weight: number;
  /** Being removed: its target is 0 and its movable microshards must all leave. */
  readonly draining: boolean;
}

export interface PlanMicroshard {
  readonly microshard: number;
  /** The island it is active on. */
  readonly island: number;
  readonly bytes: number;
  /** Never moved by the planner (shard 0 always is). */
  readonly pinned?: boolean;
}

export interface RebalanceInput {
  readonly islands: readonly PlanIsland[];
  readonly microshards: readonly PlanMicroshard[];
  /** Allowed relative deviation from each island's target: 0.1 = within 10%. */
  readonly threshold: number;
  /** At most this many moves (drain moves first). @default unlimited */
  readonly maxMoves?: number;
}

export interface PlannedMove {
  readonly microshard: number;
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
}

export interface IslandBalance {
  readonly island: number;
  readonly draining: boolean;
  readonly bytes: number;
  readonly microshards: number;
  /** Bytes it should hold: its weighted share, 0 when draining. */
  readonly target: number;
  /** bytes / target (1 when there is no data at all); null when draining. */
  readonly load: number | null;
  /** |load − 1|; null when draining. */
  readonly deviation: number | null;
}

export interface Balance {
  /** One entry per island, by island number. */
  readonly islands: readonly IslandBalance[];
  /** The largest deviation over the islands that are not draining (0 when there are none). */
  readonly maxDeviation: number;
  /** The highest load, exactly as `archipelago status` reports it (`islandImbalance`). */
  readonly imbalance: number | null;
  /** Bytes still on draining islands. */
  readonly drainingBytes: number;
}

export interface RebalancePlan {
  /** In the order to run them. */
  readonly moves: readonly PlannedMove[];
  readonly bytesMoved: number;
  readonly before: Balance;
  /** The balance once every move has run. */
  readonly after: Balance;
  /**
   * True when, after the moves, every island that is not draining is within the threshold and every
   * draining island is empty.
   */
  readonly reachable: boolean;
  /** Why it is not reachable, one sentence per cause; empty when it is. */
  readonly explanations: readonly string[];
}

/** The planner's input is malformed; nothing is planned. */
export class InvalidPlanInputError extends ArchipelagoError {
  readonly code = "INVALID_PLAN_INPUT";
  override readonly name = "InvalidPlanInputError";
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`Invalid rebalance input: ${field}: ${reason}`);
  }
  protected override details() {
    return { field: this.field, reason: this.reason };
  }
}

/** Slack on the band's edges, so that an island exactly on the edge counts as within it. */
const EDGE = 1e-9;
/** How many microshard numbers an explanation lists before "and N more". */
const LISTED = 5;

export function planRebalance(input: RebalanceInput): RebalancePlan {
  const maxMoves = validate(input);
  const t = input.threshold;
  const cluster = workingCopy(input);
  const before = measure(cluster);
  const moves: PlannedMove[] = [];
  const serving = cluster.islands.filter((i) => !i.draining);
  let limitHit = false;

  const move = (m: Shard, from: IslandState, to: IslandState) => {
    moves.push({ microshard: m.microshard, from: from.island, to: to.island, bytes: m.bytes });
    m.island = to.island;
    from.bytes -= m.bytes;
    from.count--;
    to.bytes += m.bytes;
    to.count++;
  };

  // Phase 1: empty the draining islands, largest microshard first, each onto the island that is
  // then the least loaded.
  const drained = cluster.islands
    .filter((i) => i.draining)
    .flatMap((i) => i.movable.map((m) => ({ m, from: i })))
    .sort((a, b) => b.m.bytes - a.m.bytes || a.m.microshard - b.m.microshard);
  for (const { m, from } of serving.length === 0 ? [] : drained) {
    if (moves.length >= maxMoves) {
      limitHit = true;
      break;
    }
    move(m, from, leastLoadedAfter(serving, m.bytes));
  }
  for (const i of cluster.islands) {
    if (i.draining) i.movable = i.movable.filter((m) => m.island === i.island);
  }

  // Phase 2: even out the islands that serve.
  const within = (i: IslandState, bytes = i.bytes) => deviation(bytes, i.target) <= t + EDGE;
  while (!limitHit) {
    if (serving.every((i) => within(i))) break;
    const d = mostLoadedDonor(serving);
    if (d === undefined) break;
    const dOutside = !within(d);
    // A donor within its band only helps islands below the band.
    const takes = (r: IslandState) => r !== d && r.bytes < r.target && (dOutside || !within(r));
    let found: { r: IslandState; index: number } | undefined;
    const first = leastLoaded(serving, takes);
    if (first !== undefined) {
      const index = chooseMicroshard(d, first, t);
      if (index >= 0) found = { r: first, index };
      else {
        const rest = serving
          .filter((r) => r !== first && takes(r))
          .sort((a, b) => load(a.bytes, a.target) - load(b.bytes, b.target) || a.island - b.island);
        for (const r of rest) {
          const i = chooseMicroshard(d, r, t);
          if (i >= 0) {
            found = { r, index: i };
            break;
          }
        }
      }
    }
    if (found === undefined) {
      d.exhausted = true;
      continue;
    }
    if (moves.length >= maxMoves) {
      limitHit = true;
      break;
    }
    const [m] = d.candidates.splice(found.index, 1) as [Shard];
    move(m, d, found.r);
  }

  const after = measure(cluster);
  const explanations = explain(cluster, input.threshold, maxMoves, limitHit);
  const balanced = after.maxDeviation <= t + EDGE;
  const emptied = cluster.islands.every((i) => !i.draining || i.count === 0);
  return {
    moves,
    bytesMoved: moves.reduce((sum, m) => sum + m.bytes, 0),
    before,
    after,
    reachable: balanced && emptied,
    explanations,
  };
}

/** The balance of a placement, measured as the planner measures it (before and after of a plan). */
export function balanceOf(
  islands: readonly PlanIsland[],
  microshards: readonly PlanMicroshard[],
): Balance {
  validate({ islands, microshards, threshold: 0 });
  return measure(workingCopy({ islands, microshards, threshold: 0 }));
}

// ---------------------------------------------------------------------------------------------------

interface Shard {
  readonly microshard: number;
  readonly bytes: number;
  /** Where it is at this point of the plan. */
  island: number;
}

interface IslandState {
  readonly island: number;
  readonly weight: number;
  readonly draining: boolean;
  readonly target: number;
  bytes: number;
  count: number;
  /** Pinned microshards (and shard 0) on this island, by number. */
  readonly pinned: readonly Shard[];
  /** Draining islands: the movable microshards still on it. */
  movable: readonly Shard[];
  /**
   * Serving islands: its own movable microshards of at least one byte not yet moved, by bytes then
   * number (the balance phase's candidates; a microshard moved in is never one).
   */
  readonly candidates: Shard[];
  /** Set aside by the balance phase: it could give nothing to any island. */
  exhausted: boolean;
}

interface Cluster {
  readonly islands: readonly IslandState[];
  /** Every microshard, by number. */
  readonly shards: readonly Shard[];
}

function validate(input: RebalanceInput): number {
  const { islands, microshards, threshold, maxMoves } = input;
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new InvalidPlanInputError("threshold", `must be a number ≥ 0, got ${threshold}`);
  }
  if (maxMoves !== undefined && !(Number.isSafeInteger(maxMoves) && maxMoves >= 0)) {
    throw new InvalidPlanInputError("maxMoves", `must be an integer ≥ 0, got ${maxMoves}`);
  }
  const known = new Set<number>();
  for (const i of islands) {
    if (!Number.isSafeInteger(i.island)) {
      throw new InvalidPlanInputError("islands", `island ${i.island} is not an integer`);
    }
    if (known.has(i.island)) {
      throw new InvalidPlanInputError("islands", `island ${i.island} is listed twice`);
    }
    known.add(i.island);
    const valid = Number.isFinite(i.weight) && (i.draining ? i.weight >= 0 : i.weight > 0);
    if (!valid) {
      throw new InvalidPlanInputError(
        "islands",
        `island ${i.island} has weight ${i.weight}; an island that is not draining needs a weight > 0`,
      );
    }
  }
  const seen = new Set<number>();
  let total = 0;
  for (const m of microshards) {
    microshardNumber(m.microshard);
    if (seen.has(m.microshard)) {
      throw new InvalidPlanInputError("microshards", `microshard ${m.microshard} is listed twice`);
    }
    seen.add(m.microshard);
    if (!known.has(m.island)) {
      throw new InvalidPlanInputError(
        "microshards",
        `microshard ${m.microshard} is on island ${m.island}, which is not listed`,
      );
    }
    if (!Number.isSafeInteger(m.bytes) || m.bytes < 0) {
      throw new InvalidPlanInputError(
        "microshards",
        `microshard ${m.microshard} has size ${m.bytes}; sizes are whole bytes ≥ 0`,
      );
    }
    total += m.bytes;
  }
  if (!Number.isSafeInteger(total)) {
    throw new InvalidPlanInputError("microshards", "the total size exceeds 2^53 bytes");
  }
  return maxMoves ?? Number.POSITIVE_INFINITY;
}

function isPinned(m: PlanMicroshard): boolean {
  return m.pinned === true || m.microshard === GLOBAL_MICROSHARD;
}

function workingCopy(input: RebalanceInput): Cluster {
  const islands = [...input.islands].sort((a, b) => a.island - b.island);
  const microshards = [...input.microshards].sort((a, b) => a.microshard - b.microshard);
  const total = microshards.reduce((sum, m) => sum + m.bytes, 0);
  const weight = islands.reduce((sum, i) => (i.draining ? sum : sum + i.weight), 0);
  const states = new Map<number, IslandState>();
  for (const i of islands) {
    states.set(i.island, {
      island: i.island,
      weight: i.weight,
      draining: i.draining,
      target: i.draining ? 0 : (total * i.weight) / weight,
      bytes: 0,
      count: 0,
      pinned: [],
      movable: [],
      candidates: [],
      exhausted: false,
    });
  }
  const shards: Shard[] = [];
  for (const m of microshards) {
    const s = states.get(m.island) as IslandState;
    const shard = { microshard: m.microshard, bytes: m.bytes, island: m.island };
    shards.push(shard);
    s.bytes += m.bytes;
    s.count++;
    if (isPinned(m)) (s.pinned as Shard[]).push(shard);
    else if (s.draining) (s.movable as Shard[]).push(shard);
    else if (m.bytes > 0) s.candidates.push(shard);
  }
  for (const s of states.values()) {
    s.candidates.sort((a, b) => a.bytes - b.bytes || a.microshard - b.microshard);
  }
  return { islands: [...states.values()], shards };
}

function load(bytes: number, target: number): number {
  return target > 0 ? bytes / target : bytes === 0 ? 1 : Number.POSITIVE_INFINITY;
}

function deviation(bytes: number, target: number): number {
  return Math.abs(load(bytes, target) - 1);
}

function measure(cluster: Cluster): Balance {
  const islands = cluster.islands.map((i) => ({
    island: i.island,
    draining: i.draining,
    bytes: i.bytes,
    microshards: i.count,
    target: i.target,
    load: i.draining ? null : load(i.bytes, i.target),
    deviation: i.draining ? null : deviation(i.bytes, i.target),
  }));
  return {
    islands,
    maxDeviation: islands.reduce((max, i) => Math.max(max, i.deviation ?? 0), 0),
    imbalance: islandImbalance(cluster.islands).ratio,
    drainingBytes: islands.reduce((sum, i) => (i.draining ? sum + i.bytes : sum), 0),
  };
}

/** The serving island with the lowest load after receiving `bytes`; ties: fewer microshards, number. */
function leastLoadedAfter(serving: readonly IslandState[], bytes: number): IslandState {
  let best = serving[0] as IslandState;
  for (const i of serving) {
    const a = (i.bytes + bytes) / i.weight;
    const b = (best.bytes + bytes) / best.weight;
    if (a < b || (a === b && (i.count + 1) / i.weight < (best.count + 1) / best.weight)) best = i;
  }
  return best;
}

/** The most loaded serving island above its target that may still give; ties: lower number. */
function mostLoadedDonor(serving: readonly IslandState[]): IslandState | undefined {
  let best: IslandState | undefined;
  for (const i of serving) {
    if (i.exhausted || i.candidates.length === 0 || i.bytes <= i.target) continue;
    if (best === undefined || load(i.bytes, i.target) > load(best.bytes, best.target)) best = i;
  }
  return best;
}

function leastLoaded(
  serving: readonly IslandState[],
  accept: (i: IslandState) => boolean,
): IslandState | undefined {
  let best: IslandState | undefined;
  for (const i of serving) {
    if (!accept(i)) continue;
    if (best === undefined || load(i.bytes, i.target) < load(best.bytes, best.target)) best = i;
  }
  return best;
}

/** First index of `c` whose bytes are ≥ `bytes` (c is sorted by bytes). */
function lowerBound(c: readonly Shard[], bytes: number): number {
  let lo = 0;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((c[mid] as Shard).bytes < bytes) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index of `c` whose bytes are > `bytes`. */
function upperBound(c: readonly Shard[], bytes: number): number {
  let lo = 0;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((c[mid] as Shard).bytes <= bytes) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index in `d.candidates` of the microshard to move from `d` to `r`, or -1 when no move helps. */
function chooseMicroshard(d: IslandState, r: IslandState, t: number): number {
  const c = d.candidates;
  const gap = Math.min(d.bytes - d.target, r.target - r.bytes);
  const need = Math.max(d.bytes - d.target * (1 + t), r.target * (1 - t) - r.bytes, 0);
  if (gap >= 1) {
    // The smallest microshard that brings the pair into the band without crossing a target.
    const i = lowerBound(c, need);
    if (i < c.length && (c[i] as Shard).bytes <= gap) return i;
    // Else the largest that crosses no target: the most progress.
    const j = upperBound(c, gap) - 1;
    if (j >= 0) return lowerBound(c, (c[j] as Shard).bytes);
  }
  // Else the smallest above the gap, if r stays within its band and the pair ends closer. (A larger
  // one would only overshoot further: both conditions get harder as the size grows.)
  const k = upperBound(c, gap);
  if (k >= c.length) return -1;
  const s = (c[k] as Shard).bytes;
  const fits = r.bytes + s <= r.target || deviation(r.bytes + s, r.target) <= t + EDGE;
  const was = Math.max(deviation(d.bytes, d.target), deviation(r.bytes, r.target));
  const will = Math.max(deviation(d.bytes - s, d.target), deviation(r.bytes + s, r.target));
  return fits && will < was ? k : -1;
}

function percent(t: number): string {
  return `${Number((t * 100).toFixed(2))}%`;
}

function listed(shards: readonly Shard[]): string {
  const numbers = shards.slice(0, LISTED).map((s) => s.microshard);
  const more = shards.length > LISTED ? ` and ${shards.length - LISTED} more` : "";
  return `${numbers.join(", ")}${more}`;
}

function explain(cluster: Cluster, t: number, maxMoves: number, limitHit: boolean): string[] {
  const out: string[] = [];
  const serving = cluster.islands.filter((i) => !i.draining);
  const draining = cluster.islands.filter((i) => i.draining);

  if (serving.length === 0 && draining.some((i) => i.count > 0)) {
    out.push("Every island is draining: there is no island to move their microshards to.");
  }
  for (const i of draining) {
    if (i.pinned.length === 0) continue;
    const bytes = i.pinned.reduce((sum, s) => sum + s.bytes, 0);
    const what = i.pinned.some((s) => s.microshard === GLOBAL_MICROSHARD)
      ? "shard 0 or pinned microshards"
      : "pinned microshards";
    out.push(
      `Island ${i.island} is draining but holds ${what} (${listed(i.pinned)}; ${formatBytes(bytes)}), ` +
        "which the planner never moves: it cannot end empty until they are moved by hand or unpinned.",
    );
  }
  if (limitHit) {
    out.push(`The plan stops at the move limit (${maxMoves} moves); plan again after running it.`);
  }

  // A microshard larger than every island's upper bound leaves its island over the band wherever it is.
  const widest = Math.max(0, ...serving.map((i) => i.target * (1 + t)));
  const oversized = cluster.shards
    .filter((s) => s.bytes > widest + EDGE * widest)
    .sort((a, b) => b.bytes - a.bytes || a.microshard - b.microshard);
  if (serving.length > 0 && oversized.length > 0) {
    const top = oversized[0] as Shard;
    out.push(
      `Microshard ${top.microshard} (${formatBytes(top.bytes)}) is larger than any island's share ` +
        `within ${percent(t)} (at most ${formatBytes(Math.floor(widest))})` +
        (oversized.length > 1 ? `, and so are ${oversized.length - 1} more` : "") +
        `: balance within ${percent(t)} cannot be reached.`,
    );
  }

  const bigOn = new Set(oversized.map((s) => s.island));
  for (const i of serving) {
    const dev = deviation(i.bytes, i.target);
    if (dev <= t + EDGE) continue;
    const at = `Island ${i.island} ends ${percent(dev)} ${i.bytes > i.target ? "over" : "under"} its target (${formatBytes(i.bytes)} of ${formatBytes(Math.round(i.target))})`;
    if (limitHit) {
      out.push(`${at}: the move limit was reached first.`);
      continue;
    }
    if (i.bytes > i.target) {
      const pinnedBytes = i.pinned.reduce((sum, s) => sum + s.bytes, 0);
      const holdsBig = bigOn.has(i.island);
      if (pinnedBytes > i.target * (1 + t)) {
        out.push(
          `${at}: its pinned microshards alone (${listed(i.pinned)}; ${formatBytes(pinnedBytes)}) exceed its band.`,
        );
      } else if (holdsBig) {
        out.push(`${at}: it holds a microshard larger than any island's share.`);
      } else if (i.candidates.length === 0) {
        out.push(
          `${at}: nothing on it can move (its other microshards are pinned, empty, or were moved in by this plan).`,
        );
      } else {
        const room = Math.max(
          0,
          ...serving.filter((r) => r !== i).map((r) => r.target * (1 + t) - r.bytes),
        );
        out.push(
          `${at}: its smallest movable microshard (${formatBytes((i.candidates[0] as Shard).bytes)}) would ` +
            `overfill the islands below their targets (most room within the band: ${formatBytes(Math.floor(room))}) ` +
            "or leave them further apart.",
        );
      }
    } else {
      const sources = serving.filter((d) => d.bytes > d.target && d.candidates.length > 0);
      const smallest = Math.min(...sources.map((d) => (d.candidates[0] as Shard).bytes));
      const need = Math.ceil(i.target * (1 - t) - i.bytes);
      out.push(
        sources.length === 0
          ? `${at}: no island above its target has a microshard that may move.`
          : `${at}: it needs ${formatBytes(need)} more, and the smallest microshard an island above its ` +
              `target could give (${formatBytes(smallest)}) would overfill it or leave that island further off.`,
      );
    }
  }
  return out;
}
