export * from "./jobs/job-store.js";
export type { MoveProgress } from "./move/move-context.js";
export * from "./move/move-errors.js";
export { DEFAULT_MOVE_OPTIONS, type MoveOptions } from "./move/move-options.js";
export { MOVE_STEPS, type MoveStep, moveObjectName, retiredSchemaName } from "./move/move-steps.js";
export { Mover, type MoverDeps } from "./move/mover.js";
export * from "./plan/plan-rebalance.js";
export * from "./plan/rebalance.js";
