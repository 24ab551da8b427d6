import { ArchipelagoError } from "@archipelago/topology";

/** A mistake in how the command was called, or in its config (exit code 2). */
export class UsageError extends ArchipelagoError {
  readonly code = "USAGE";
  override readonly name = "UsageError";
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
