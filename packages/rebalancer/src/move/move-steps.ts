/**
 * The steps of a move, in order, as data.
 *
 * The line that matters is the switch: the source's retirement (catalog `sent`, generation + 1, schema
 * renamed) commits inside `switch`. Every step before it can be rolled back (drop what the cleanup log
 * lists; the source never stopped being active). Every step after it can only roll forward: the source
 * is frozen, the target holds everything up to the switch, so the target is activated. A resumed move
 * re-reads the source catalog to learn which side of that line it is on, rather than trusting its
 * checkpoint alone.
 */
export const MOVE_STEPS = [
  "precheck",
  "create-target-schema",
  "start-replication",
  "initial-copy",
  "catch-up",
  "switch",
  "activate-target",
  "publish-map",
  "completed",
] as const;

export type MoveStep = (typeof MOVE_STEPS)[number];

/** Steps after which a failure rolls forward instead of back. */
export const ROLL_FORWARD_FROM: MoveStep = "activate-target";

export function isMoveStep(value: string): value is MoveStep {
  return (MOVE_STEPS as readonly string[]).includes(value);
}

export function nextStep(step: MoveStep): MoveStep {
  const index = MOVE_STEPS.indexOf(step);
  return MOVE_STEPS[Math.min(index + 1, MOVE_STEPS.length - 1)] as MoveStep;
}

export function rollsForward(step: MoveStep): boolean {
  return MOVE_STEPS.indexOf(step) >= MOVE_STEPS.indexOf(ROLL_FORWARD_FROM);
}

/** Objects a move creates, named after its job so that leftovers are always attributable. */
export function moveObjectName(jobId: number): string {
  return `archipelago_move_${jobId}`;
}

/** The source schema's name once retired: unique per job, so a later move never collides with it. */
export function retiredSchemaName(schema: string, jobId: number): string {
  return `${schema}_moved_${jobId}`;
}
