import { ArchipelagoError } from "@archipelago/topology";

/** A mistake in how the command was called, or in its config (exit code 2). */
export class UsageError extends ArchipelagoError {
  readonly code = "USAGE";
  override readonly name = "UsageError";
}

/** The job id names no job (exit code 2: the caller passed a wrong id). */
export class JobNotFoundError extends ArchipelagoError {
  readonly code = "JOB_NOT_FOUND";
  override readonly name = "JobNotFoundError";
  constructor(readonly jobId: number) {
    super(`There is no job ${jobId} (see: archipelago jobs list)`);
  }
  protected override details() {
    return { jobId: this.jobId };
  }
}

/** `cleanup` refused a job: it is not finished, or another process is running it. Nothing was dropped. */
export class CleanupRefusedError extends ArchipelagoError {
  readonly code = "CLEANUP_REFUSED";
  override readonly name = "CleanupRefusedError";
  constructor(
    readonly jobId: number,
    readonly reason: string,
  ) {
    super(`Cannot clean up job ${jobId}: ${reason}`);
  }
  protected override details() {
    return { jobId: this.jobId, reason: this.reason };
  }
}
