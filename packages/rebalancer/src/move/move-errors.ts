import { ArchipelagoError } from "@archipelago/topology";

/** A pre-check refused the move; nothing was created. */
export class MoveRefusedError extends ArchipelagoError {
  readonly code = "MOVE_REFUSED";
  override readonly name = "MoveRefusedError";
  constructor(
    readonly microshard: number,
    readonly reason: string,
  ) {
    super(`Cannot move microshard ${microshard}: ${reason}`);
  }
  protected override details() {
    return { microshard: this.microshard, reason: this.reason };
  }
}

/** The move failed before its switch and was rolled back: the microshard stays on its source. */
export class MoveAbortedError extends ArchipelagoError {
  readonly code = "MOVE_ABORTED";
  override readonly name = "MoveAbortedError";
  constructor(
    readonly jobId: number,
    readonly step: string,
    readonly reason: string,
  ) {
    super(
      `Move job ${jobId} aborted at step ${step}: ${reason}. The microshard stays active on its source.`,
    );
  }
  protected override details() {
    return { jobId: this.jobId, step: this.step, reason: this.reason };
  }
}

/**
 * The move is past its switch (the source is retired) but could not finish; it must be resumed, never
 * rolled back. Until then the microshard is active nowhere and clients wait.
 */
export class MoveStalledError extends ArchipelagoError {
  readonly code = "MOVE_STALLED";
  override readonly name = "MoveStalledError";
  constructor(
    readonly jobId: number,
    readonly step: string,
    readonly reason: string,
  ) {
    super(
      `Move job ${jobId} is past its switch and stalled at step ${step}: ${reason}. Resume it ` +
        "(archipelago jobs resume) as soon as the islands answer: the microshard is active nowhere until then.",
    );
  }
  protected override details() {
    return { jobId: this.jobId, step: this.step, reason: this.reason };
  }
}

/** A step found the islands in a state it cannot act on (never retried as if an island were down). */
export class MoveStateError extends ArchipelagoError {
  readonly code = "MOVE_STATE";
  override readonly name = "MoveStateError";
  constructor(
    readonly jobId: number,
    readonly reason: string,
  ) {
    super(`Move job ${jobId}: ${reason}`);
  }
  protected override details() {
    return { jobId: this.jobId, reason: this.reason };
  }
}

/**
 * The move was stopped (by an operator, the global switch, or its manager shutting down) before its
 * switch. Nothing is rolled back: its replication keeps the target copy current, and resuming the job
 * goes on from its checkpoint. (A stopped move keeps its slot on the source, which retains WAL: resume
 * it or clean it up.)
 */
export class MoveStoppedError extends ArchipelagoError {
  readonly code = "MOVE_STOPPED";
  override readonly name = "MoveStoppedError";
  constructor(
    readonly jobId: number,
    readonly step: string,
    readonly reason: string,
  ) {
    super(`Move job ${jobId} stopped before step ${step}: ${reason}`);
  }
  protected override details() {
    return { jobId: this.jobId, step: this.step, reason: this.reason };
  }
}
