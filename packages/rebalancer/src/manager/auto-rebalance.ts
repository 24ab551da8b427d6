/**
 * When the manager starts a rebalance or a drain on its own (automatic mode). Pure.
 *
 * - An island marked draining that still holds microshards gets a drain, at once.
 * - An island that joined (in the config, not seen at the previous measurement) gets a rebalance at
 *   once, if it left the cluster over the threshold.
 * - Otherwise, hysteresis: a rebalance starts only when the imbalance stays above `1 + startAbove`
 *   for `confirmations` measurements in a row, and not within `cooldownMs` of the last rebalance; the
 *   rebalance plans down to `1 + threshold`, below the start line, so the cluster does not flap
 *   around one value.
 * - Nothing starts while a rebalance or drain is live, or while an island cannot be measured.
 */

export type ManagerMode = "off" | "manual" | "automatic";

export interface AutoRebalanceOptions {
  /** What a rebalance plans down to: each island within this ratio of its share. @default 0.1 */
  readonly threshold: number;
  /** Start when the fullest island is this much over its share (> threshold). @default 0.25 */
  readonly startAbove: number;
  /** Measurements in a row above the start line before starting. @default 3 */
  readonly confirmations: number;
  /** Quiet time after a rebalance or drain was last seen live. @default 600_000 */
  readonly cooldownMs: number;
}

export const DEFAULT_AUTO_REBALANCE: AutoRebalanceOptions = Object.freeze({
  threshold: 0.1,
  startAbove: 0.25,
  confirmations: 3,
  cooldownMs: 600_000,
});

export interface AutoMeasurement {
  readonly at: number;
  /** The fullest island's load (1.00 = even); null when an island could not be measured. */
  readonly imbalance: number | null;
  readonly islands: readonly {
    readonly island: number;
    readonly draining: boolean;
    /** Active microshards other than shard 0. */
    readonly microshards: number;
  }[];
}

export interface AutoMemory {
  /** Islands seen at the previous measurement (null before the first). */
  readonly knownIslands: readonly number[] | null;
  /** Measurements in a row above the start line. */
  readonly above: number;
  /** No automatic rebalance before this time (epoch ms). */
  readonly quietUntil: number;
}

export const INITIAL_AUTO_MEMORY: AutoMemory = { knownIslands: null, above: 0, quietUntil: 0 };

export type AutoDecision =
  | { readonly action: "none"; readonly reason: string }
  | { readonly action: "rebalance"; readonly reason: string }
  | { readonly action: "drain"; readonly island: number; readonly reason: string };

export function decideAutoRebalance(
  measurement: AutoMeasurement,
  memory: AutoMemory,
  liveParentJob: boolean,
  options: AutoRebalanceOptions,
): { decision: AutoDecision; memory: AutoMemory } {
  const islands = measurement.islands.map((i) => i.island);
  const joined =
    memory.knownIslands === null ? [] : islands.filter((i) => !memory.knownIslands?.includes(i));
  const next = (patch: Partial<AutoMemory>): AutoMemory => ({
    ...memory,
    knownIslands: islands,
    ...patch,
  });
  if (liveParentJob) {
    return {
      decision: { action: "none", reason: "a rebalance or drain is under way" },
      memory: next({ above: 0, quietUntil: measurement.at + options.cooldownMs }),
    };
  }
  const draining = measurement.islands.find((i) => i.draining && i.microshards > 0);
  if (draining) {
    return {
      decision: {
        action: "drain",
        island: draining.island,
        reason: `island ${draining.island} is draining and holds ${draining.microshards} microshard(s)`,
      },
      memory: next({ above: 0 }),
    };
  }
  const ratio = measurement.imbalance;
  if (ratio === null) {
    return {
      decision: { action: "none", reason: "an island could not be measured" },
      memory: next({ above: 0 }),
    };
  }
  if (joined.length > 0 && ratio > 1 + options.threshold) {
    return {
      decision: {
        action: "rebalance",
        reason: `island(s) ${joined.join(", ")} joined; imbalance ${ratio.toFixed(2)}`,
      },
      memory: next({ above: 0 }),
    };
  }
  if (ratio <= 1 + options.startAbove) {
    return {
      decision: { action: "none", reason: `imbalance ${ratio.toFixed(2)} is under the start line` },
      memory: next({ above: 0 }),
    };
  }
  const above = memory.above + 1;
  if (above < options.confirmations) {
    return {
      decision: {
        action: "none",
        reason: `imbalance ${ratio.toFixed(2)} above the start line (${above}/${options.confirmations})`,
      },
      memory: next({ above }),
    };
  }
  if (measurement.at < memory.quietUntil) {
    return {
      decision: { action: "none", reason: "cooling down after the last rebalance" },
      memory: next({ above }),
    };
  }
  return {
    decision: {
      action: "rebalance",
      reason: `imbalance ${ratio.toFixed(2)} stayed above ${(1 + options.startAbove).toFixed(2)} for ${above} measurements`,
    },
    memory: next({ above: 0 }),
  };
}
