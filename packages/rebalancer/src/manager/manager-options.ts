/** Every tunable of the shard manager, with its default, as data. */
import type { Migration } from "@archipelago/migrate";
import type { MoveOptions } from "../move/move-options.js";
import {
  type AutoRebalanceOptions,
  DEFAULT_AUTO_REBALANCE,
  type ManagerMode,
} from "./auto-rebalance.js";
import { DEFAULT_MOVE_LIMITS, type MoveLimits } from "./schedule-moves.js";

export interface ManagerOptions {
  /**
   * `off`: lead, measure and publish the cluster map, run no job. `manual`: also run the jobs that
   * operators create. `automatic`: also start rebalances and drains on its own. @default "manual"
   */
  readonly mode: ManagerMode;
  /** Names this process in the control catalog and in logs. @default host:pid */
  readonly identity: string;
  /** How often the leader looks at jobs (and a follower tries to take the lead). @default 1000 */
  readonly tickMs: number;
  /** How often the leader measures microshard sizes and republishes a changed cluster map. @default 30000 */
  readonly measureEveryMs: number;
  readonly limits: MoveLimits;
  readonly auto: AutoRebalanceOptions;
  readonly move: Partial<MoveOptions>;
  /** Migrations for `allocate` jobs (new microshards get every migration); none: allocate jobs fail. */
  readonly migrations: readonly Migration[] | undefined;
}

export const DEFAULT_MANAGER_OPTIONS: Omit<ManagerOptions, "identity"> = Object.freeze({
  mode: "manual",
  tickMs: 1_000,
  measureEveryMs: 30_000,
  limits: DEFAULT_MOVE_LIMITS,
  auto: DEFAULT_AUTO_REBALANCE,
  move: {},
  migrations: undefined,
});

/** Checks options that would make the manager misbehave; returns the problems, empty when fine. */
export function managerOptionProblems(options: ManagerOptions): string[] {
  const problems: string[] = [];
  const { limits, auto } = options;
  if (!(options.tickMs >= 10)) problems.push("tickMs must be at least 10");
  if (!(options.measureEveryMs >= options.tickMs))
    problems.push("measureEveryMs must be at least tickMs");
  if (!(Number.isInteger(limits.maxParallelMoves) && limits.maxParallelMoves >= 1))
    problems.push("limits.maxParallelMoves must be an integer ≥ 1");
  if (!(Number.isInteger(limits.maxMovesPerIsland) && limits.maxMovesPerIsland >= 1))
    problems.push("limits.maxMovesPerIsland must be an integer ≥ 1");
  if (limits.copyBytesPerSecond !== null && !(limits.copyBytesPerSecond > 0))
    problems.push("limits.copyBytesPerSecond must be > 0 (or null for no limit)");
  if (!(auto.threshold >= 0)) problems.push("auto.threshold must be ≥ 0");
  if (!(auto.startAbove > auto.threshold))
    problems.push("auto.startAbove must be greater than auto.threshold (hysteresis)");
  if (!(Number.isInteger(auto.confirmations) && auto.confirmations >= 1))
    problems.push("auto.confirmations must be an integer ≥ 1");
  if (!(auto.cooldownMs >= 0)) problems.push("auto.cooldownMs must be ≥ 0");
  return problems;
}
