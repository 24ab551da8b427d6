/**
 * The operator's handle on the shard manager: create jobs, stop and resume them, flip the global
 * switch. The CLI and the HTTP API both go through it; the leading manager carries the jobs out.
 *
 * Every request is checked before anything is written (a typed error otherwise, nothing changed), and
 * every state change is a row-locked transaction in the control catalog, so two operators (or an
 * operator and the manager) never interleave halfway.
 */
import type { IslandMasters } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import { Mover } from "../move/mover.js";
import type { RebalancePlan } from "../plan/plan-rebalance.js";
import { markDraining, unmarkDraining } from "./draining-islands.js";
import { JobConflictError, JobNotFoundError, JobRequestError } from "./job-errors.js";
import {
  type GlobalState,
  JOB_STATES,
  type JobRecord,
  type JobState,
  JobStore,
  type ManagerState,
  type NewJob,
} from "./job-store.js";
import { createParentJob } from "./parent-jobs.js";

export interface JobsSummary {
  readonly state: GlobalState;
  readonly stateReason: string | null;
  readonly counts: Readonly<Record<JobState, number>> & { readonly total: number };
}

export interface ParentCreated {
  readonly job: JobRecord;
  readonly plan: RebalancePlan;
  readonly children: readonly JobRecord[];
}

export class JobControl {
  constructor(
    private readonly deps: { readonly config: ClusterConfig; readonly masters: IslandMasters },
  ) {}

  async store(): Promise<JobStore> {
    return new JobStore(await this.deps.masters.pool(this.deps.config.globalIsland));
  }

  async get(id: number): Promise<JobRecord> {
    const job = await (await this.store()).get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  async summary(): Promise<JobsSummary> {
    const store = await this.store();
    const [global, jobs] = await Promise.all([store.managerState(), store.all()]);
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const job of jobs) counts[job.state] += 1;
    return {
      state: global.state,
      stateReason: global.reason,
      counts: { ...counts, total: jobs.length },
    };
  }

  async globalState(): Promise<ManagerState> {
    return (await this.store()).managerState();
  }

  /** Flips the global switch, stopping or restarting the jobs it governs (see job-transitions.ts). */
  async setGlobalState(state: GlobalState, reason: string): Promise<ManagerState> {
    return (await this.store()).setGlobalState(state, reason);
  }

  /**
   * A move of `microshard` to `island`. @throws JobRequestError (unknown island, shard 0),
   * MoveRefusedError (not active anywhere, already there, target draining, a live move of it)
   */
  async createMove(microshard: number, island: number): Promise<JobRecord> {
    this.#island(island);
    if (microshard === 0) {
      throw new JobRequestError("shard 0 is never moved (it holds the global tables and the jobs)");
    }
    return new Mover(this.deps).createMove(microshard, island);
  }

  /** A rebalance: planned now (the returned plan is the one carried out), one child move per step. */
  async createRebalance(
    options: { threshold?: number; maxMoves?: number } = {},
  ): Promise<ParentCreated> {
    if (options.threshold !== undefined && !(options.threshold >= 0 && options.threshold < 10)) {
      throw new JobRequestError(
        `threshold must be a ratio between 0 and 10, not ${options.threshold}`,
      );
    }
    return this.#createParent({
      type: "rebalance",
      params: {
        ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
        ...(options.maxMoves === undefined ? {} : { maxMoves: options.maxMoves }),
      },
    });
  }

  /**
   * Marks `island` draining (it receives nothing from now on) and creates a drain job that empties it.
   * The mark stays after the job completes, until `undrain`.
   */
  async createDrain(island: number, reason = "drained by an operator"): Promise<ParentCreated> {
    this.#island(island);
    if (island === this.deps.config.globalIsland) {
      throw new JobRequestError(
        `island ${island} holds shard 0 and the control catalog; it cannot be drained`,
      );
    }
    const store = await this.store();
    const live = (await store.live()).find((j) => j.type === "rebalance" || j.type === "drain");
    if (live) {
      throw new JobConflictError(
        `job ${live.id} (a ${live.type}) is still live; wait for it, or stop and delete it first`,
        live.id,
      );
    }
    await markDraining(await this.#control(), island, reason);
    return this.#createParent({ type: "drain", params: { island } });
  }

  /** Lifts a drain mark; a live drain of that island is stopped. */
  async undrain(island: number): Promise<{ unmarked: boolean; stopped: number | null }> {
    this.#island(island);
    const store = await this.store();
    const drain = (await store.live()).find(
      (j) => j.type === "drain" && j.params.island === island,
    );
    if (drain) await this.stop(drain.id, `island ${island} is no longer draining`);
    return {
      unmarked: await unmarkDraining(await this.#control(), island),
      stopped: drain?.id ?? null,
    };
  }

  /** New microshards, allocated by the leading manager (which must know the migrations). */
  async createAllocate(count: number): Promise<JobRecord> {
    if (!Number.isInteger(count) || count < 1 || count > 9999) {
      throw new JobRequestError(`count must be an integer from 1 to 9999, not ${count}`);
    }
    return this.#create({ type: "allocate", params: { count } });
  }

  /** Drops retired source copies of completed moves (one move job, or all of them). */
  async createCleanup(moveJobId?: number): Promise<JobRecord> {
    if (moveJobId !== undefined) {
      const job = await this.get(moveJobId);
      if (job.type !== "move")
        throw new JobRequestError(`job ${moveJobId} is a ${job.type} job, not a move`);
    }
    return this.#create({
      type: "cleanup",
      params: moveJobId === undefined ? {} : { jobId: moveJobId },
    });
  }

  /** Stops a job (and a parent's live children). A running move stops before its next step. */
  async stop(id: number, reason = "stopped by an operator"): Promise<JobRecord> {
    return this.#command(id, "stop", reason);
  }

  /**
   * Resumes a stopped or failed job (and a parent's stopped or failed children). The leading manager
   * runs it, unless `owner` names the process that will run it itself.
   */
  async resume(
    id: number,
    reason = "resumed by an operator",
    options: { owner?: string } = {},
  ): Promise<JobRecord> {
    return this.#command(id, "resume", reason, options.owner ?? null);
  }

  /**
   * Deletes a job that is not running (stop it first) and left nothing to drop (a move with objects
   * still in its cleanup log must be cleaned up first). A parent is deleted with its children.
   */
  async delete(id: number): Promise<void> {
    const store = await this.store();
    const job = await this.get(id);
    const family = [job, ...(await store.children(id))];
    const running = family.find((j) => j.state === "running");
    if (running) {
      throw new JobConflictError(`job ${running.id} is running; stop it first`, running.id);
    }
    for (const member of family.filter((j) => j.type === "move")) {
      const left = (await store.objects(member.id)).filter((o) => o.droppedAt === null);
      // Its cleanup log is the only record of what it left behind: it goes only once empty.
      if (left.length > 0) {
        throw new JobConflictError(
          `move job ${member.id} still has replication objects or a copy to drop ` +
            `(${left.map((o) => `${o.kind} ${o.name} on island ${o.island}`).join(", ")}); ` +
            "run archipelago cleanup first",
          member.id,
        );
      }
    }
    await store.delete(id);
  }

  async #command(
    id: number,
    command: "stop" | "resume",
    reason: string,
    owner: string | null = null,
  ): Promise<JobRecord> {
    const store = await this.store();
    const result = await store.command(id, command, reason, owner);
    if (!result) throw new JobNotFoundError(id);
    if (result.job.type === "rebalance" || result.job.type === "drain") {
      for (const child of await store.children(id)) {
        await store.command(child.id, command, `${reason} (parent job ${id})`);
      }
    }
    return (await store.get(id)) as JobRecord;
  }

  async #createParent(input: {
    type: "rebalance" | "drain";
    params: Record<string, unknown>;
  }): Promise<ParentCreated> {
    const store = await this.store();
    try {
      return await createParentJob({ ...this.deps, store }, input);
    } catch (error) {
      throw await this.#conflict(store, error);
    }
  }

  async #create(input: NewJob): Promise<JobRecord> {
    const store = await this.store();
    try {
      return await store.create(input);
    } catch (error) {
      throw await this.#conflict(store, error);
    }
  }

  /** Only one rebalance or drain may be live (a unique index): that violation is a conflict. */
  async #conflict(store: JobStore, error: unknown): Promise<unknown> {
    if ((error as { code?: string }).code !== "23505") return error;
    const live = (await store.live()).find((j) => j.type === "rebalance" || j.type === "drain");
    return new JobConflictError(
      `job ${live?.id ?? "?"} (a ${live?.type ?? "rebalance"}) is still live; wait for it, or stop and delete it first`,
      live?.id ?? null,
    );
  }

  #island(island: number): void {
    if (!this.deps.config.islands.some((i) => i.island === island)) {
      throw new JobRequestError(
        `island ${island} is not in the cluster config (islands: ${this.deps.config.islands.map((i) => i.island).join(", ")})`,
      );
    }
  }

  #control() {
    return this.deps.masters.pool(this.deps.config.globalIsland);
  }
}
