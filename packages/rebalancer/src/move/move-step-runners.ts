/**
 * What each step of a move does. Every runner is idempotent: run again after a crash at any point
 * inside it, it finishes the job instead of failing on what the first run already did. Runners read
 * the islands' catalogs to learn where the move really is; the checkpoint only says where to resume.
 */
import type { MoveContext } from "./move-context.js";
import type { MoveStep } from "./move-steps.js";
import { activateTarget } from "./steps/activate-target.js";

export { sourceRetired } from "./steps/catalog-row.js";

import { createTargetSchema } from "./steps/create-target-schema.js";
import { precheck } from "./steps/precheck.js";
import { publishMap } from "./steps/publish-map.js";
import { catchUp, initialCopy, startReplication } from "./steps/replicate.js";
import { switchSource } from "./steps/switch-source.js";

export const STEP_RUNNERS: Record<MoveStep, (ctx: MoveContext) => Promise<void>> = {
  precheck,
  "create-target-schema": createTargetSchema,
  "start-replication": startReplication,
  "initial-copy": initialCopy,
  "catch-up": catchUp,
  switch: switchSource,
  "activate-target": activateTarget,
  "publish-map": publishMap,
  completed: async () => {},
};
