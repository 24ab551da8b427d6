/**
 * Where new microshards go: a pure function of the islands' loads.
 *
 * Numbers: the requested ones, or the lowest free ones (a number is taken while any island has a row
 * for it, whatever its state, so a number in the middle of a move or awaiting cleanup is never reused).
 * Islands: each new microshard goes to the non-draining island with the lowest count per unit of weight
 * after placing it; ties go to the lowest island number, so the plan is deterministic. Sizes are not
 * known for new microshards (they are empty), so counting is the right measure here; the rebalancer
 * evens out sizes later.
 */
import {
  GLOBAL_MICROSHARD,
  MAX_MICROSHARD,
  MIN_MICROSHARD,
  microshardNumber,
} from "@archipelago/topology";
import { AllocationError } from "./migrate-errors.js";

export interface IslandLoad {
  readonly island: number;
  readonly weight: number;
  readonly draining: boolean;
  /** Microshards with a row on this island (any state). */
  readonly microshards: number;
}

export interface AllocationRequest {
  readonly islands: readonly IslandLoad[];
  /** Every microshard number that has a row on some island. */
  readonly taken: ReadonlySet<number>;
  /** The island that holds shard 0. */
  readonly globalIsland: number;
  /** Either a count of new microshards, or the exact numbers wanted. */
  readonly count?: number;
  readonly numbers?: readonly number[];
}

export interface PlannedMicroshard {
  readonly microshard: number;
  readonly island: number;
}

/** @throws AllocationError when the request cannot be met (nothing is planned then). */
export function planAllocation(request: AllocationRequest): PlannedMicroshard[] {
  const numbers = chooseNumbers(request);
  const counts = new Map(request.islands.map((i) => [i.island, i.microshards]));
  const open = request.islands.filter((i) => !i.draining);
  return numbers.map((microshard) => {
    if (microshard === GLOBAL_MICROSHARD) return { microshard, island: request.globalIsland };
    if (open.length === 0) throw new AllocationError("every island is draining");
    let best = open[0] as IslandLoad;
    for (const island of open) {
      const score = ((counts.get(island.island) ?? 0) + 1) / island.weight;
      const bestScore = ((counts.get(best.island) ?? 0) + 1) / best.weight;
      if (score < bestScore || (score === bestScore && island.island < best.island)) best = island;
    }
    counts.set(best.island, (counts.get(best.island) ?? 0) + 1);
    return { microshard, island: best.island };
  });
}

function chooseNumbers(request: AllocationRequest): number[] {
  if (request.numbers !== undefined) {
    const seen = new Set<number>();
    for (const n of request.numbers) {
      microshardNumber(n);
      if (seen.has(n)) throw new AllocationError(`microshard ${n} is requested twice`);
      if (request.taken.has(n)) throw new AllocationError(`microshard ${n} already exists`);
      seen.add(n);
    }
    return [...request.numbers];
  }
  const count = request.count ?? 0;
  if (!Number.isInteger(count) || count < 1) {
    throw new AllocationError(`count must be a positive integer, got ${count}`);
  }
  const free: number[] = [];
  for (let n = MIN_MICROSHARD; n <= MAX_MICROSHARD && free.length < count; n++) {
    if (!request.taken.has(n)) free.push(n);
  }
  if (free.length < count) {
    throw new AllocationError(
      `only ${free.length} microshard numbers are free, ${count} requested`,
    );
  }
  return free;
}
