/**
 * The shard manager role: any number of processes run one (embedded in an app with `new Manager(…)`
 * or as `archipelago manager`); exactly one leads at a time (leader-lease.ts) and the others wait to
 * take over. The leader, every tick:
 *
 *   1. measures microshard sizes (every `measureEveryMs`) and republishes the cluster map if it changed;
 *   2. passes stop requests on to the moves it runs (a stopped job's mover stops before its next step);
 *   3. if the global switch is running: starts automatic rebalances and drains (automatic mode), plans
 *      and settles rebalance and drain jobs, and starts waiting moves within the limits
 *      (schedule-moves.ts), including moves whose process died (they resume from their checkpoints);
 *      allocate and cleanup jobs run one at a time.
 *
 * Every decision is re-read from the control catalog each tick; the leader's memory holds only what it
 * is running. A new leader therefore needs no hand-over: it reads the same jobs and carries on.
 */
import { allocateMicroshards, IslandMasters, publishClusterMap } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import { effectiveConfig } from "../jobs/draining-islands.js";
import { JobControl } from "../jobs/job-control.js";
import type { JobRecord, JobStore } from "../jobs/job-store.js";
import { heldMoveLocks } from "../jobs/move-locks.js";
import { settleParentJob } from "../jobs/parent-jobs.js";
import { isTransient, type MoveProgress } from "../move/move-context.js";
import { MoveStoppedError } from "../move/move-errors.js";
import { Mover, processIdentity } from "../move/mover.js";
import { readClusterStatus } from "../status/cluster-status.js";
import {
  type AutoMeasurement,
  type AutoMemory,
  decideAutoRebalance,
  INITIAL_AUTO_MEMORY,
} from "./auto-rebalance.js";
import { LeaderLease } from "./leader-lease.js";
import { jobStarted, type ManagerEvent } from "./manager-events.js";
import {
  DEFAULT_MANAGER_OPTIONS,
  type ManagerOptions,
  managerOptionProblems,
} from "./manager-options.js";
import { scheduleMoves } from "./schedule-moves.js";

export interface ManagerDeps {
  readonly config: ClusterConfig;
  /** Shared with the caller (not ended by the manager); the manager makes its own when omitted. */
  readonly masters?: IslandMasters;
  readonly options?: Partial<Omit<ManagerOptions, "limits" | "auto">> & {
    readonly limits?: Partial<ManagerOptions["limits"]>;
    readonly auto?: Partial<ManagerOptions["auto"]>;
  };
  readonly onEvent?: (event: ManagerEvent) => void;
  readonly onMoveProgress?: (progress: MoveProgress) => void;
}

interface RunningMove {
  readonly job: JobRecord;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

const PARENT_TYPES = new Set(["rebalance", "drain"]);
const TERMINAL = new Set(["completed", "failed"]);

export class Manager {
  readonly options: ManagerOptions;
  readonly control: JobControl;
  readonly #config: ClusterConfig;
  readonly #masters: IslandMasters;
  readonly #ownsMasters: boolean;
  readonly #lease: LeaderLease;
  readonly #mover: Mover;
  readonly #moves = new Map<number, RunningMove>();
  #otherJob: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closing = false;
  #nextMeasureAt = 0;
  #sizes = new Map<number, number>();
  #publishedFingerprint: string | undefined;
  #auto: AutoMemory = INITIAL_AUTO_MEMORY;
  #copyAdmittedUntil = 0;

  constructor(private readonly deps: ManagerDeps) {
    const given = deps.options ?? {};
    this.options = {
      ...DEFAULT_MANAGER_OPTIONS,
      identity: processIdentity(),
      ...given,
      limits: { ...DEFAULT_MANAGER_OPTIONS.limits, ...given.limits },
      auto: { ...DEFAULT_MANAGER_OPTIONS.auto, ...given.auto },
    };
    const problems = managerOptionProblems(this.options);
    if (problems.length > 0)
      throw new RangeError(`invalid manager options: ${problems.join("; ")}`);
    this.#config = deps.config;
    this.#ownsMasters = deps.masters === undefined;
    this.#masters = deps.masters ?? new IslandMasters(deps.config);
    this.control = new JobControl({ config: this.#config, masters: this.#masters });
    this.#lease = new LeaderLease(this.#masters, this.#config.globalIsland);
    this.#mover = new Mover({
      config: this.#config,
      masters: this.#masters,
      options: this.options.move,
      ...(deps.onMoveProgress ? { onProgress: deps.onMoveProgress } : {}),
    });
  }

  get isLeader(): boolean {
    return this.#lease.held;
  }

  /** Jobs this process is running now. */
  get runningJobIds(): readonly number[] {
    return [...this.#moves.keys()];
  }

  /** Starts the loop (idempotent). It runs until `close()`. */
  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  /**
   * Stops leading and running: moves in flight stop before their next step (or finish, when past
   * their switch) and stay `running` in the catalog, so the next leader resumes them.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    await this.#loop;
    await this.#abortAll("the manager is shutting down");
    await this.#lease.release();
    if (this.#ownsMasters) await this.#masters.end();
  }

  /**
   * Runs the loop until job `jobId` has ended (completed or failed) or was stopped by an operator, then
   * returns it. Whether this process leads or follows, the job's record decides.
   */
  async waitFor(jobId: number, options: { signal?: AbortSignal } = {}): Promise<JobRecord> {
    this.start();
    const store = await this.control.store();
    for (;;) {
      const job = await store.get(jobId);
      if (!job) throw new Error(`job ${jobId} disappeared`);
      if (TERMINAL.has(job.state) || (job.state === "stopped" && job.stoppedBy === "operator")) {
        return job;
      }
      if (options.signal?.aborted) return job;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.tickMs, 500)));
    }
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      try {
        await this.#tick();
      } catch (error) {
        this.#emit({ type: "error", during: "tick", message: (error as Error).message });
        // An island that did not answer may have failed over: look for its master again.
        if (isTransient(error)) {
          for (const island of this.#config.islands) this.#masters.forget(island.island);
        }
      }
      await this.#sleep(this.options.tickMs);
    }
  }

  async #tick(): Promise<void> {
    if (!this.#lease.held) {
      if (!(await this.#lease.tryAcquire())) return;
      this.#nextMeasureAt = 0;
      this.#auto = INITIAL_AUTO_MEMORY;
      const store = await this.control.store();
      await store.recordLeader(this.options.identity, this.#lease.since ?? new Date());
      this.#emit({ type: "lead-taken", identity: this.options.identity });
    } else if (!(await this.#lease.check())) {
      this.#emit({
        type: "lead-lost",
        identity: this.options.identity,
        reason: "the leader's session on the control island ended",
      });
      await this.#abortAll("this manager lost the lead");
      return;
    }
    await this.#lead();
  }

  async #lead(): Promise<void> {
    const store = await this.control.store();
    let measured: AutoMeasurement | undefined;
    if (Date.now() >= this.#nextMeasureAt) {
      this.#nextMeasureAt = Date.now() + this.options.measureEveryMs;
      // A failed measurement (an island failing over) must not hold up the jobs.
      measured = await this.#measure(store).catch((error: unknown) => {
        this.#emit({ type: "error", during: "measure", message: (error as Error).message });
        return undefined;
      });
    }
    if (!measured) await store.heartbeat(this.options.identity);
    if (this.options.mode === "off") return;

    const live = await store.live();
    // Stop requests reach the moves this process runs (the mover also checks before each step).
    for (const [id, run] of this.#moves) {
      const job = live.find((j) => j.id === id);
      if (job?.state === "stopped") run.controller.abort(job.stateReason ?? "stopped");
    }
    const global = await store.managerState();
    if (global.state !== "running") return;

    if (this.options.mode === "automatic" && measured) await this.#automatic(measured, live);
    for (const parent of live.filter((j) => PARENT_TYPES.has(j.type) && j.state !== "stopped")) {
      await this.#advanceParent(store, parent);
    }
    await this.#startMoves(store, live);
    this.#startOtherJob(store, live);
  }

  async #advanceParent(store: JobStore, parent: JobRecord): Promise<void> {
    const deps = { config: this.#config, masters: this.#masters, store };
    let job = parent;
    if (parent.state === "new") {
      job = (await store.claim(parent.id, "carrying out the plan")) ?? parent;
      this.#emit(jobStarted(job));
    }
    if ((await settleParentJob(deps, job)) === "finished") {
      const ended = (await store.get(job.id)) as JobRecord;
      this.#emit({
        type: "job-ended",
        jobId: ended.id,
        job: ended.type,
        outcome: ended.state === "completed" ? "completed" : "failed",
        detail: ended.stateReason ?? "",
      });
    }
  }

  async #startMoves(store: JobStore, live: readonly JobRecord[]): Promise<void> {
    const moves = live.filter((j) => j.type === "move" && j.state !== "stopped");
    if (moves.length === 0) return;
    const held = await heldMoveLocks(await this.#masters.pool(this.#config.globalIsland));
    const mine = (j: JobRecord) => this.#moves.has(j.id);
    const elsewhere = (j: JobRecord) => !mine(j) && held.has(j.microshard as number);
    const running = moves.filter((j) => mine(j) || elsewhere(j));
    // New moves (but not those a process created to run itself), and moves recorded as running
    // whose process died (nobody holds their lock).
    const candidates = moves.filter(
      (j) => !mine(j) && !elsewhere(j) && !(j.state === "new" && j.owner !== null),
    );
    const schedule = scheduleMoves({
      candidates: candidates.map((j) => ({
        jobId: j.id,
        source: j.sourceIsland as number,
        target: j.targetIsland as number,
        bytes:
          this.#sizes.get(j.microshard as number) ??
          (typeof j.checkpoint.plannedBytes === "number" ? j.checkpoint.plannedBytes : 0),
      })),
      running: running.map((j) => ({
        source: j.sourceIsland as number,
        target: j.targetIsland as number,
      })),
      limits: this.options.limits,
      copyAdmittedUntil: this.#copyAdmittedUntil,
      now: Date.now(),
    });
    this.#copyAdmittedUntil = schedule.copyAdmittedUntil;
    for (const id of schedule.start) {
      const job = candidates.find((j) => j.id === id) as JobRecord;
      this.#startMove(store, job);
    }
  }

  #startMove(store: JobStore, job: JobRecord): void {
    const controller = new AbortController();
    this.#emit(jobStarted(job));
    const done = (async () => {
      try {
        const finished = await this.#mover.run(job.id, { signal: controller.signal });
        this.#emit({
          type: "job-ended",
          jobId: job.id,
          job: "move",
          outcome: "completed",
          detail: finished.stateReason ?? "",
          ...(finished.writeBlockMs === null ? {} : { writeBlockMs: finished.writeBlockMs }),
        });
        // The retired source copy serves nobody (its schema was renamed at the switch).
        await this.#mover.cleanup(job.id).catch(async (error: unknown) => {
          await store
            .note(job.id, "cleanup", `retired copy not dropped yet: ${(error as Error).message}`)
            .catch(() => {});
        });
      } catch (error) {
        const stopped = error instanceof MoveStoppedError;
        const now = await store.get(job.id).catch(() => undefined);
        this.#emit({
          type: "job-ended",
          jobId: job.id,
          job: "move",
          outcome: stopped
            ? now?.state === "stopped"
              ? "stopped"
              : "interrupted"
            : now?.state === "failed"
              ? "failed"
              : "interrupted",
          detail: (error as Error).message,
        });
      } finally {
        this.#moves.delete(job.id);
        this.#wake?.();
      }
    })();
    this.#moves.set(job.id, { job, controller, done });
  }

  /** Allocate and cleanup jobs: one at a time, in the background. */
  #startOtherJob(store: JobStore, live: readonly JobRecord[]): void {
    if (this.#otherJob) return;
    const job = live.find(
      (j) => (j.type === "allocate" || j.type === "cleanup") && j.state !== "stopped",
    );
    if (!job) return;
    this.#otherJob = (async () => {
      const claimed = await store.claim(job.id, `running ${job.type}`);
      if (!claimed) return;
      this.#emit(jobStarted(claimed));
      try {
        const detail =
          job.type === "allocate" ? await this.#allocate(job) : await this.#cleanup(store, job);
        await store.setState(job.id, "completed", detail);
        this.#emit({
          type: "job-ended",
          jobId: job.id,
          job: job.type,
          outcome: "completed",
          detail,
        });
      } catch (error) {
        const detail = (error as Error).message;
        await store.setState(job.id, "failed", detail, { error: { message: detail } });
        this.#emit({ type: "job-ended", jobId: job.id, job: job.type, outcome: "failed", detail });
      }
    })()
      .catch((error: unknown) =>
        this.#emit({ type: "error", during: `job ${job.id}`, message: (error as Error).message }),
      )
      .finally(() => {
        this.#otherJob = undefined;
      });
  }

  async #allocate(job: JobRecord): Promise<string> {
    const { migrations } = this.options;
    if (!migrations) {
      throw new Error(
        "this manager was started without migrations (archipelago manager --migrations <dir>), " +
          "so it cannot create microshards",
      );
    }
    const result = await allocateMicroshards(this.#masters, {
      count: job.params.count as number,
      migrations,
    });
    return `allocated ${result.allocated.map((a) => `${a.microshard} on island ${a.island}`).join(", ")}`;
  }

  async #cleanup(store: JobStore, job: JobRecord): Promise<string> {
    const only = typeof job.params.jobId === "number" ? job.params.jobId : undefined;
    const targets = (await store.all()).filter(
      (j) => j.type === "move" && j.state === "completed" && (only === undefined || j.id === only),
    );
    let dropped = 0;
    for (const move of targets) {
      if ((await this.#mover.cleanup(move.id)).dropped) dropped += 1;
    }
    return `dropped ${dropped} retired copy(ies) of ${targets.length} completed move(s)`;
  }

  async #automatic(measured: AutoMeasurement, live: readonly JobRecord[]): Promise<void> {
    const { decision, memory } = decideAutoRebalance(
      measured,
      this.#auto,
      live.some((j) => PARENT_TYPES.has(j.type)),
      this.options.auto,
    );
    this.#auto = memory;
    if (decision.action === "none") return;
    const created =
      decision.action === "drain"
        ? await this.control.createDrain(decision.island, decision.reason)
        : await this.control.createRebalance({ threshold: this.options.auto.threshold });
    this.#emit({ type: "auto", decision, jobId: created.job.id });
  }

  /** Sizes, imbalance and the cluster map; stored in the control catalog for operators. */
  async #measure(store: JobStore): Promise<AutoMeasurement> {
    const config = await effectiveConfig(this.#config, this.#masters);
    const status = await readClusterStatus(config, this.#masters);
    this.#sizes = new Map(
      status.islands.flatMap((i) =>
        i.microshards.filter((m) => m.state === "active").map((m) => [m.microshard, m.bytes]),
      ),
    );
    const islands = status.islands.map((i) => ({
      island: i.island,
      draining: i.draining,
      bytes: i.activeBytes,
      load: i.load,
      microshards: i.microshards.filter((m) => m.state === "active" && m.microshard !== 0).length,
    }));
    const measurement = { at: Date.now(), imbalance: status.imbalance, islands };
    await store.heartbeat(this.options.identity, {
      ...measurement,
      at: new Date(measurement.at).toISOString(),
    });
    this.#emit({ type: "measured", imbalance: status.imbalance, islands });
    if (status.islands.every((i) => i.error === null)) {
      const fingerprint = JSON.stringify(
        status.islands.map((i) => [
          i.island,
          i.microshards.map((m) => [m.microshard, m.state, m.generation]),
        ]),
      );
      if (fingerprint !== this.#publishedFingerprint) {
        const published = await publishClusterMap(this.#masters);
        this.#publishedFingerprint = fingerprint;
        this.#emit({ type: "map-published", epoch: published.epoch });
      }
    }
    return measurement;
  }

  async #abortAll(reason: string): Promise<void> {
    for (const run of this.#moves.values()) run.controller.abort(reason);
    await Promise.all([...this.#moves.values()].map((r) => r.done));
    await this.#otherJob;
  }

  /** The loop's pause between ticks; `#wake` ends it early (a move ended, the manager closes). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => done();
      this.#wake = wake;
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wake === wake) self.#wake = undefined;
        resolve();
      }
    });
  }

  #emit(event: ManagerEvent): void {
    try {
      this.deps.onEvent?.(event);
    } catch {
      // A listener's failure must not stop the manager.
    }
  }
}
