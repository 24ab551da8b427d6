/**
 * How uneven the islands are, as one number.
 *
 * Each island should hold a share of the data proportional to its weight. An island's *load* is its
 * size divided by that fair share: `(bytes / weight) / (total bytes / total weight)`, where the totals
 * run over islands that are not draining (a draining island's data still counts in the total bytes: it
 * has to go somewhere). 1.00 is exactly its share; 1.30 is 30% over it. The cluster's *imbalance* is the
 * highest load: the fullest island relative to its share, so 1.00 means perfectly even and the number
 * grows with the one island that most needs relief. (Max/min was rejected: an island that has just
 * joined, near empty, would make it infinite.)
 *
 * Pure: plain numbers in, a new value out. Unknown sizes (an island that did not answer) make the
 * imbalance unknown (`null`) rather than a guess.
 */

export interface IslandSize {
  readonly island: number;
  readonly weight: number;
  readonly draining: boolean;
  /** Bytes of the microshards active on the island, or null when it could not be read. */
  readonly bytes: number | null;
}

export interface IslandLoad {
  readonly island: number;
  /** Size relative to the island's fair share; null for a draining island or unknown sizes. */
  readonly load: number | null;
}

export interface Imbalance {
  /** The highest island load; null when a size is unknown or every island is draining. */
  readonly ratio: number | null;
  readonly islands: readonly IslandLoad[];
}

export function islandImbalance(islands: readonly IslandSize[]): Imbalance {
  const known = islands.every((i) => i.bytes !== null);
  const serving = islands.filter((i) => !i.draining);
  const weight = serving.reduce((sum, i) => sum + i.weight, 0);
  if (!known || serving.length === 0 || weight <= 0) {
    return { ratio: null, islands: islands.map((i) => ({ island: i.island, load: null })) };
  }
  const total = islands.reduce((sum, i) => sum + (i.bytes ?? 0), 0);
  const perWeight = total / weight;
  const loads = islands.map((i) => ({
    island: i.island,
    // With no data at all every island holds exactly its share (nothing).
    load: i.draining ? null : perWeight === 0 ? 1 : (i.bytes ?? 0) / i.weight / perWeight,
  }));
  const ratio = Math.max(...loads.map((l) => l.load ?? Number.NEGATIVE_INFINITY));
  return { ratio, islands: loads };
}
