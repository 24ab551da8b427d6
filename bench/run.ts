/**
 * Runs every benchmark in turn (`pnpm bench`). Benchmarks are never part of the test run: timings on
 * shared 2-core machines are noisy, so each reports ratios against a baseline measured in the same run.
 */
import { benchClientLoads } from "./client-loads.bench.js";
import { benchClusterStart } from "./cluster-start.bench.js";
import { benchEntLoads } from "./ent-loads.bench.js";
import { benchMove } from "./move.bench.js";
import { benchPlanner } from "./planner.bench.js";

const benches: Record<string, () => Promise<void>> = {
  "cluster-start": benchClusterStart,
  "client-loads": benchClientLoads,
  "ent-loads": benchEntLoads,
  move: benchMove,
  planner: benchPlanner,
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`bench ${name}`);
  await run();
}
