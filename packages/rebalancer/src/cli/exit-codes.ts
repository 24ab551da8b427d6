/**
 * The `archipelago` command's exit codes: part of its interface, so that scripts can branch on them.
 *
 * | code | meaning                                                                                   |
 * | ---- | ----------------------------------------------------------------------------------------- |
 * | 0    | done                                                                                      |
 * | 1    | failed: a move aborted and was rolled back (the microshard stays on its source), an island |
 * |      | did not answer, a cleanup left objects pending; running the command again is safe          |
 * | 2    | usage or config error: bad arguments, no or invalid config, unknown job; nothing was done  |
 * | 3    | refused by a pre-check (move, cleanup, allocation) or a conflicting job; nothing changed   |
 * | 4    | a move is stalled past its switch: the microshard is active nowhere until it is resumed    |
 * |      | (`archipelago jobs resume <id>`); page someone                                             |
 * | 130  | interrupted (Ctrl-C) during a move; the job can be resumed                                 |
 */
import { AllocationError, InvalidMigrationError } from "@archipelago/migrate";
import { InvalidConfigError, InvalidMicroshardError } from "@archipelago/topology";
import { JobConflictError, JobNotFoundError, JobRequestError } from "../jobs/job-errors.js";
import { MoveRefusedError, MoveStalledError } from "../move/move-errors.js";
import { CleanupRefusedError, UsageError } from "./cli-errors.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_REFUSED = 3;
export const EXIT_STALLED = 4;
export const EXIT_INTERRUPTED = 130;

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (
    error instanceof UsageError ||
    error instanceof InvalidConfigError ||
    error instanceof InvalidMicroshardError ||
    error instanceof InvalidMigrationError ||
    error instanceof JobNotFoundError ||
    error instanceof JobRequestError
  ) {
    return EXIT_USAGE;
  }
  if (
    error instanceof MoveRefusedError ||
    error instanceof CleanupRefusedError ||
    error instanceof JobConflictError ||
    error instanceof AllocationError
  ) {
    return EXIT_REFUSED;
  }
  if (error instanceof MoveStalledError) return EXIT_STALLED;
  return EXIT_FAILED;
}
