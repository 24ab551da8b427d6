/**
 * The mover: runs (or resumes) one move job to its end.
 *
 * One process at a time runs a given microshard's move: it holds a session advisory lock on the
 * control catalog for the whole run, and the jobs table refuses a second live move job for the same
 * microshard. Moves hold the migrations lock (shared) on both islands, so migrations wait for them.
 *
 * Each step is checkpointed in the job before it runs and is idempotent, so a run killed anywhere is
 * simply started again. Failures that look transient (an island briefly unreachable, a failover) are
 * retried with backoff up to a deadline. A failure before the switch rolls the move back; a failure
 * after it (or when it cannot be told whether the switch committed) leaves the job stalled, to be
 * resumed: a retired source is never brought back.
 */
import { hostname } from "node:os";
import {
  acquireMigrationLock,
  acquireSessionLock,
  type IslandMasters,
  MigrationLockBusyError,
  readCatalogs,
} from "@archipelago/migrate";
import { type ClusterConfig, microshardLock } from "@archipelago/topology";
import type pg from "pg";
import { effectiveConfig } from "../jobs/draining-islands.js";
import { type JobRecord, JobStore } from "../jobs/job-store.js";
import {
  isTransient,
  type MoveContext,
  type MoveProgress,
  moveContext,
  sleep,
  throwIfStopped,
} from "./move-context.js";
import {
  MoveAbortedError,
  MoveRefusedError,
  MoveStalledError,
  MoveStateError,
  MoveStoppedError,
} from "./move-errors.js";
import { DEFAULT_MOVE_OPTIONS, type MoveOptions } from "./move-options.js";
import { STEP_RUNNERS, sourceRetired } from "./move-step-runners.js";
import { isMoveStep, MOVE_STEPS, type MoveStep, nextStep, rollsForward } from "./move-steps.js";
import { dropRetiredSource, rollbackMove } from "./rollback-move.js";

/** How long a mover waits for the microshard's move lock before concluding another process runs it. */
const MOVE_LOCK_WAIT_MS = 5_000;

export interface MoverDeps {
  readonly config: ClusterConfig;
  readonly masters: IslandMasters;
  readonly options?: Partial<MoveOptions>;
  readonly onProgress?: (event: MoveProgress) => void;
  /** Called after a step is checkpointed and before it runs (tests pause here to kill the process). */
  readonly beforeStep?: (step: MoveStep, job: JobRecord) => Promise<void>;
}

/**
 * Takes the microshard's move lock. Waits a little: the lock of a mover that was just killed goes away
 * when PostgreSQL notices its connection is gone; a live mover keeps it, and then this one refuses.
 */
function takeMoveLock(control: pg.ClientBase, microshard: number, jobId: number): Promise<void> {
  return acquireSessionLock(control, microshardLock("move", microshard), {
    shared: false,
    timeoutMs: MOVE_LOCK_WAIT_MS,
    busy: () => new MoveRefusedError(microshard, `job ${jobId} is being run by another process`),
  });
}

export class Mover {
  readonly #options: MoveOptions;

  constructor(private readonly deps: MoverDeps) {
    this.#options = { ...DEFAULT_MOVE_OPTIONS, ...deps.options };
  }

  async store(): Promise<JobStore> {
    return new JobStore(await this.deps.masters.pool(this.deps.config.globalIsland));
  }

  /**
   * Creates a move job for `microshard` to `targetIsland` (the source is wherever it is active). With
   * an `owner`, the caller runs the job itself and managers leave it alone until it is interrupted.
   */
  async createMove(
    microshard: number,
    targetIsland: number,
    options: { owner?: string } = {},
  ): Promise<JobRecord> {
    const active = (await readCatalogs(this.deps.masters)).find(
      (r) => r.microshard === microshard && r.state === "active",
    );
    if (!active) throw new MoveRefusedError(microshard, "it is not active on any island");
    if (active.island === targetIsland) {
      throw new MoveRefusedError(microshard, `it is already on island ${targetIsland}`);
    }
    const config = await effectiveConfig(this.deps.config, this.deps.masters);
    if (config.islands.find((i) => i.island === targetIsland)?.draining) {
      throw new MoveRefusedError(microshard, `island ${targetIsland} is draining`);
    }
    const job = await (await this.store()).createMove({
      microshard,
      sourceIsland: active.island,
      targetIsland,
      ...options,
    });
    if (!job) throw new MoveRefusedError(microshard, "another move of it is in progress");
    return job;
  }

  /** Creates and runs a move (in this process: no manager picks it up meanwhile). */
  async move(microshard: number, targetIsland: number): Promise<JobRecord> {
    const job = await this.createMove(microshard, targetIsland, { owner: processIdentity() });
    return this.run(job.id);
  }

  /**
   * Runs or resumes job `jobId` to completion. A stopped job is refused (resume it first); a stop
   * request (the job set `stopped` in the store, or `signal` aborted) ends the run before the next
   * step, or during a long wait, as long as the switch has not begun.
   * @throws MoveRefusedError, MoveAbortedError, MoveStalledError, MoveStoppedError
   */
  async run(jobId: number, runOptions: { signal?: AbortSignal } = {}): Promise<JobRecord> {
    const store = await this.store();
    let job = await store.get(jobId);
    if (!job) throw new Error(`no job ${jobId}`);
    if (job.state === "completed") return job;
    if (job.state === "stopped") throw stoppedError(job);
    // Session-long locks live on connections of their own, never on the shared pools.
    const held: pg.Client[] = [];
    let lockHeld = false;
    const { masters, config } = this.deps;
    try {
      const control = await masters.connectDedicated(config.globalIsland);
      held.push(control);
      await takeMoveLock(control, job.microshard as number, jobId);
      lockHeld = true;
      let step: MoveStep = isMoveStep(job.step) ? job.step : "precheck";
      // The source catalog decides which side of the switch the job is on, not the checkpoint: a
      // switch that committed just before a failure must roll forward, never restart (a restart's
      // rollback would drop the only active-able copy).
      const probe = moveContext(job, { ...this.deps, store, options: this.#options });
      if (!rollsForward(step) && (await sourceRetired(probe))) step = "activate-target";
      // A job that failed before its switch was rolled back: it starts over.
      else if (job.state === "failed" && !rollsForward(step)) step = "precheck";
      for (const island of [job.sourceIsland as number, job.targetIsland as number]) {
        const client = await masters.connectDedicated(island);
        held.push(client);
        try {
          await acquireMigrationLock(client, island, "shared", this.#options.lockTimeoutMs);
        } catch (error) {
          if (error instanceof MigrationLockBusyError && !rollsForward(step)) {
            throw new MoveRefusedError(
              job.microshard as number,
              `a migration is running on island ${island}`,
            );
          }
          throw error;
        }
      }
      const claimed = await store.claim(jobId, `running from step ${step}`);
      if (!claimed) {
        const now = (await store.get(jobId)) as JobRecord;
        if (now.state === "completed") return now;
        throw stoppedError(now);
      }
      job = claimed;
      const ctx = moveContext(job, {
        ...this.deps,
        store,
        options: this.#options,
        ...(runOptions.signal ? { signal: runOptions.signal } : {}),
      });
      try {
        while (step !== "completed") {
          // A stop is honoured only before the switch begins; from there on the move finishes.
          ctx.stop.step = step;
          ctx.stop.armed = MOVE_STEPS.indexOf(step) < MOVE_STEPS.indexOf("switch");
          if (ctx.stop.armed) await throwIfStopRequested(ctx, store);
          await store.checkpoint(jobId, step, ctx.state);
          await this.deps.beforeStep?.(step, job);
          await this.#runStep(ctx, step);
          step = nextStep(step);
        }
      } catch (error) {
        await this.#fail(ctx, step, error);
      }
      await store.checkpoint(jobId, "completed", ctx.state);
      const writeBlockMs =
        typeof ctx.state.writeBlockMs === "number" ? ctx.state.writeBlockMs : undefined;
      await store.setState(
        jobId,
        "completed",
        writeBlockMs === undefined
          ? "move completed"
          : `move completed; write block ${writeBlockMs} ms`,
        writeBlockMs === undefined ? {} : { writeBlockMs },
      );
      return (await store.get(jobId)) as JobRecord;
    } catch (error) {
      // Only a refusal made while holding the move lock is this process's to record: a process that
      // lost the race for the lock must not overwrite the state of the job another one is running.
      if (error instanceof MoveRefusedError && lockHeld && job.state !== "running") {
        await store
          .setState(jobId, "failed", error.message, { error: error.toJSON() })
          .catch(() => {});
      }
      throw error;
    } finally {
      await Promise.all(held.map((client) => client.end().catch(() => {})));
    }
  }

  /** Drops what a job left behind: the retired source of a completed move, or a failed move's leftovers. */
  async cleanup(jobId: number): Promise<{ dropped: boolean; pending: readonly string[] }> {
    const store = await this.store();
    const job = await store.get(jobId);
    if (job?.type !== "move") throw new Error(`no move job ${jobId}`);
    // The move lock keeps a cleanup from racing a process that is resuming the same job.
    const control = await this.deps.masters.connectDedicated(this.deps.config.globalIsland);
    try {
      await takeMoveLock(control, job.microshard as number, jobId);
      const ctx = moveContext(job, { ...this.deps, store, options: this.#options });
      if (job.state === "completed") return { dropped: await dropRetiredSource(ctx), pending: [] };
      if (await sourceRetired(ctx)) {
        throw new MoveStateError(
          jobId,
          "its source is already retired: resume the job (it rolls forward), do not clean it",
        );
      }
      if (job.state === "failed" && !rollsForward(isMoveStep(job.step) ? job.step : "precheck")) {
        const { pending } = await rollbackMove(ctx);
        return { dropped: pending.length === 0, pending };
      }
      throw new Error(
        `job ${jobId} is ${job.state} at step ${job.step}; only completed or rolled-back moves are cleaned`,
      );
    } finally {
      await control.end().catch(() => {});
    }
  }

  async #runStep(ctx: MoveContext, step: MoveStep): Promise<void> {
    // The deadline runs from the first of a series of failures, so a long copy that meets one blip
    // late still gets its full retry budget.
    let failingSince: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await STEP_RUNNERS[step](ctx);
        return;
      } catch (error) {
        failingSince ??= Date.now();
        if (!isTransient(error) || Date.now() - failingSince > this.#options.stepRetryDeadlineMs)
          throw error;
        // An island did not answer (down, failing over): look for its master again after a pause.
        this.deps.masters.forget(ctx.source);
        this.deps.masters.forget(ctx.target);
        await ctx.store
          .note(
            ctx.job.id,
            "retry",
            `step ${step}, attempt ${attempt}: ${(error as Error).message}`,
          )
          .catch(() => {});
        await sleep(Math.min(200 * 2 ** Math.min(attempt, 5), 5_000));
      }
    }
  }

  async #fail(ctx: MoveContext, step: MoveStep, error: unknown): Promise<never> {
    // Stopped: nothing to undo; the job's state says who stopped it and it resumes from its checkpoint.
    if (error instanceof MoveStoppedError) throw error;
    const reason = (error as Error).message;
    // Past the switch, or unable to tell whether the switch committed: roll forward later, never back.
    const pastSwitch =
      rollsForward(step) ||
      (step === "switch" && (await sourceRetired(ctx).then(Boolean, () => true)));
    if (pastSwitch) {
      const stalled = new MoveStalledError(ctx.job.id, step, reason);
      await ctx.store
        .setState(ctx.job.id, "failed", stalled.message, { error: stalled.toJSON() })
        .catch(() => {});
      throw stalled;
    }
    let pending: readonly string[];
    try {
      ({ pending } = await rollbackMove(ctx));
    } catch (rollbackError) {
      // The control catalog itself did not answer: nothing could be recorded. The source is still
      // active; the job keeps its checkpoint and resumes (or is cleaned up) once the island is back.
      throw new MoveAbortedError(
        ctx.job.id,
        step,
        `${reason}; the rollback could not read the job's cleanup log (${(rollbackError as Error).message}), ` +
          "so run the job again or clean it up when the control island answers",
      );
    }
    const aborted =
      error instanceof MoveRefusedError || error instanceof MoveAbortedError
        ? error
        : new MoveAbortedError(ctx.job.id, step, reason);
    const detail =
      pending.length > 0
        ? `${aborted.message} Cleanup pending: ${pending.join("; ")}`
        : aborted.message;
    await ctx.store
      .setState(ctx.job.id, "failed", detail, { error: { ...aborted.toJSON(), pending } })
      .catch(() => {});
    throw aborted;
  }
}

/** Names this process in a job's `owner`. */
export function processIdentity(): string {
  return `${hostname()}:${process.pid}`;
}

function stoppedError(job: JobRecord): MoveStoppedError {
  const by = job.stoppedBy === "global" ? "the global switch" : "an operator";
  return new MoveStoppedError(
    job.id,
    job.step,
    job.state === "stopped"
      ? `stopped by ${by} (${job.stateReason ?? "no reason given"}); resume it first`
      : `the job is ${job.state}`,
  );
}

/** Before each step ahead of the switch: the job may have been stopped in the store, or by signal. */
async function throwIfStopRequested(ctx: MoveContext, store: JobStore): Promise<void> {
  throwIfStopped(ctx);
  const now = await store.get(ctx.job.id);
  if (now?.state === "stopped") throw stoppedError(now);
}
