/**
 * Vitest global setup: before the suite, clean clusters left by a crashed earlier run; after it, clean
 * any cluster whose test process died without stopping it.
 */
import { sweepStaleClusters } from "./cluster-registry.js";

export function setup(): void {
  const cleaned = sweepStaleClusters();
  if (cleaned.length > 0)
    console.warn(`testkit: removed ${cleaned.length} stale cluster(s): ${cleaned.join(", ")}`);
}

export function teardown(): void {
  const cleaned = sweepStaleClusters();
  if (cleaned.length > 0)
    console.warn(`testkit: removed ${cleaned.length} cluster(s) left by dead test processes`);
}
