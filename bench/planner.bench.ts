/**
 * The rebalance planner on a large cluster: 10,000 microshards over 100 islands, planned in memory (no
 * PostgreSQL). Sizes are random but seeded (a fixed mulberry32 stream, log-normal-ish: most microshards
 * a few MB, a few hundred MB), and the placement is skewed the way a real cluster drifts: 85 old
 * islands hold everything, ten of them hot (twice the microshards), 10 new islands are empty, 5 islands
 * of weight 2 joined half full, and 2 old islands are draining. Shard 0 and 1% of the microshards (none
 * on the draining islands) are pinned. The figure is the median of RUNS calls to `planRebalance` after
 * one warm-up call; the plan is checked to be identical every time.
 */
import { type PlanIsland, type PlanMicroshard, planRebalance } from "@archipelago/rebalancer";
import { figure, median } from "./report.js";

const MICROSHARDS = 10_000;
const ISLANDS = 100;
const RUNS = 5;
const THRESHOLD = 0.05;
const SEED = 20_240_917;
const MB = 1024 * 1024;

function log(line: string): void {
  console.log(`  ${line}`);
}

/** A small, well-known 32-bit PRNG: the same seed gives the same cluster on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildCluster(): { islands: PlanIsland[]; microshards: PlanMicroshard[] } {
  const random = mulberry32(SEED);
  // Islands 1–85 old (1–10 hot, 84–85 draining), 86–90 new with weight 2, 91–100 new and empty.
  const islands: PlanIsland[] = Array.from({ length: ISLANDS }, (_, k) => ({
    island: k + 1,
    weight: k + 1 >= 86 && k + 1 <= 90 ? 2 : 1,
    draining: k + 1 >= 84 && k + 1 <= 85,
  }));
  // Where microshards land: hot islands count twice, the weight-2 newcomers once, empty ones never.
  const slots: number[] = [];
  for (let n = 1; n <= 85; n++) for (let c = 0; c < (n <= 10 ? 2 : 1); c++) slots.push(n);
  for (let n = 86; n <= 90; n++) slots.push(n);
  const microshards: PlanMicroshard[] = [];
  for (let microshard = 0; microshard < MICROSHARDS; microshard++) {
    // exp of a roughly normal variable: median ~4 MB, a long tail up to a few hundred MB.
    const normal = (random() + random() + random() + random() - 2) * 1.7;
    const bytes = Math.round(4 * MB * Math.exp(normal * 1.2));
    const island = microshard === 0 ? 1 : (slots[Math.floor(random() * slots.length)] as number);
    const pinned = microshard !== 0 && random() < 0.01 && !islands[island - 1]?.draining;
    microshards.push({ microshard, island, bytes, pinned });
  }
  return { islands, microshards };
}

export async function benchPlanner(): Promise<void> {
  const { islands, microshards } = buildCluster();
  const input = { islands, microshards, threshold: THRESHOLD };
  const warm = planRebalance(input);
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const plan = planRebalance(input);
    times.push(performance.now() - started);
    if (JSON.stringify(plan) !== JSON.stringify(warm))
      throw new Error("the plan changed between runs");
  }
  const total = microshards.reduce((sum, m) => sum + m.bytes, 0);
  const drains = warm.moves.filter((m) => islands[m.from - 1]?.draining).length;
  log(
    `${MICROSHARDS} microshards (${(total / MB / 1024).toFixed(1)} GB) over ${ISLANDS} islands, ` +
      `threshold ${THRESHOLD * 100}%: max deviation ${warm.before.maxDeviation.toFixed(3)} → ` +
      `${warm.after.maxDeviation.toFixed(3)}, imbalance ${warm.before.imbalance?.toFixed(3)} → ` +
      `${warm.after.imbalance?.toFixed(3)}, reachable ${warm.reachable}`,
  );
  log(
    `${warm.moves.length} moves (${drains} off draining islands), ` +
      `${(warm.bytesMoved / MB / 1024).toFixed(1)} GB moved ` +
      `(${((warm.bytesMoved / total) * 100).toFixed(1)}% of the data)`,
  );
  for (const e of warm.explanations) log(`explanation: ${e}`);
  log(`runs (ms): ${times.map((t) => t.toFixed(1)).join(", ")}`);
  figure("planner_10000x100_ms", median(times).toFixed(1), "ms");
  figure("planner_10000x100_moves", warm.moves.length, "count");
  figure("planner_10000x100_moved_mb", Math.round(warm.bytesMoved / MB), "MB");
}
