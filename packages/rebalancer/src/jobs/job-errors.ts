/** Errors of the job control API; each names the job and says what to do. */
import { ArchipelagoError } from "@archipelago/topology";

/** No job has this id. */
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

/** The request conflicts with the cluster or another live job; nothing was changed. */
export class JobConflictError extends ArchipelagoError {
  readonly code = "JOB_CONFLICT";
  override readonly name = "JobConflictError";
  constructor(
    message: string,
    readonly conflictingJobId: number | null = null,
  ) {
    super(message);
  }
  protected override details() {
    return { conflictingJobId: this.conflictingJobId };
  }
}

/** The request is not valid (an unknown island, a bad count); nothing was changed. */
export class JobRequestError extends ArchipelagoError {
  readonly code = "JOB_REQUEST";
  override readonly name = "JobRequestError";
}
