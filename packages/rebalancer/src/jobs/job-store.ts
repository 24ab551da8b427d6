/**
 * Persistent jobs and the move cleanup log, in the control catalog (the global island's master).
 *
 * A job row is the single source of truth for where a move is: its `step` and `checkpoint` are written
 * before the step runs, so a mover that dies at any point and is started again knows which step to
 * redo (every step is idempotent). Every object a move creates is recorded in `move_objects` before it
 * is created, so whatever a crash leaves can be found and dropped.
 */
import { inTransaction } from "@archipelago/migrate";
import type pg from "pg";
import {
  initialStatus,
  type JobCommand,
  type JobStatus,
  jobTransition,
  type StoppedBy,
} from "./job-transitions.js";

export const JOB_STATES = ["new", "running", "stopped", "failed", "completed"] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JOB_TYPES = ["move", "rebalance", "drain", "allocate", "cleanup"] as const;
export type JobType = (typeof JOB_TYPES)[number];
/** States a job can still leave on its own or by a command. */
export const LIVE_JOB_STATES: readonly JobState[] = ["new", "running", "stopped"];
export type GlobalState = "running" | "stopped";

export interface ManagerState {
  readonly state: GlobalState;
  readonly reason: string | null;
  readonly updatedAt: Date;
  /** The manager that last took the lead (informational: leadership is an advisory lock). */
  readonly leader: string | null;
  readonly leaderSince: Date | null;
  readonly heartbeatAt: Date | null;
  /** The leader's last measurement of the cluster (sizes, imbalance), as it stored it. */
  readonly measurement: Record<string, unknown> | null;
}
export type MoveObjectKind = "schema" | "publication" | "slot" | "subscription";

export interface HistoryEntry {
  readonly at: string;
  readonly type: string;
  readonly detail: string;
}

export interface JobRecord {
  readonly id: number;
  readonly type: JobType;
  readonly parentId: number | null;
  readonly state: JobState;
  readonly stateReason: string | null;
  /** Who stopped a `stopped` job: an operator, or the global switch (see job-transitions.ts). */
  readonly stoppedBy: StoppedBy | null;
  /** What the job was asked for: a rebalance's threshold, the island a drain empties, a count. */
  readonly params: Record<string, unknown>;
  /**
   * The process that created the job to run it itself (`archipelago move`), or null for jobs the
   * leading manager runs. Managers leave a `new` job with an owner alone; once it is running and its
   * process is gone (interrupted), any manager resumes it.
   */
  readonly owner: string | null;
  readonly microshard: number | null;
  readonly sourceIsland: number | null;
  readonly targetIsland: number | null;
  readonly step: string;
  readonly checkpoint: Record<string, unknown>;
  readonly history: readonly HistoryEntry[];
  readonly error: Record<string, unknown> | null;
  readonly writeBlockMs: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface MoveObject {
  readonly island: number;
  readonly kind: MoveObjectKind;
  readonly name: string;
  readonly droppedAt: Date | null;
}

export interface NewJob {
  readonly type: JobType;
  readonly owner?: string;
  readonly parentId?: number;
  readonly params?: Record<string, unknown>;
  readonly microshard?: number;
  readonly sourceIsland?: number;
  readonly targetIsland?: number;
  readonly checkpoint?: Record<string, unknown>;
}

/** History entries kept per job (oldest dropped first). */
export const HISTORY_LIMIT = 100;
const PAGE = 1_000;

interface JobRow {
  id: string;
  type: JobType;
  parent_id: string | null;
  state: JobState;
  state_reason: string | null;
  stopped_by: StoppedBy | null;
  params: Record<string, unknown>;
  owner: string | null;
  microshard: number | null;
  source_island: number | null;
  target_island: number | null;
  step: string;
  checkpoint: Record<string, unknown>;
  history: HistoryEntry[];
  error: Record<string, unknown> | null;
  write_block_ms: number | null;
  created_at: Date;
  updated_at: Date;
}

function toJob(row: JobRow): JobRecord {
  return {
    id: Number(row.id),
    type: row.type,
    parentId: row.parent_id === null ? null : Number(row.parent_id),
    state: row.state,
    stateReason: row.state_reason,
    stoppedBy: row.stopped_by,
    params: row.params,
    owner: row.owner,
    microshard: row.microshard,
    sourceIsland: row.source_island,
    targetIsland: row.target_island,
    step: row.step,
    checkpoint: row.checkpoint,
    history: row.history,
    error: row.error,
    writeBlockMs: row.write_block_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Appends one history entry and caps the list, in SQL, so concurrent writers never lose entries. */
const APPEND_HISTORY = `
  (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
     SELECT e, n FROM jsonb_array_elements(history || jsonb_build_array(jsonb_build_object(
       'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       'type', $2::text, 'detail', $3::text))) WITH ORDINALITY AS h(e, n)
     ORDER BY n DESC LIMIT ${HISTORY_LIMIT}) kept)`;

export class JobStore {
  constructor(private readonly control: pg.Pool) {}

  /**
   * Creates a job. A job created while the global switch is off is created stopped by it, and starts
   * with the switch: the switch's row is read under a share lock, so a concurrent global stop either
   * sees this job or is seen by it.
   */
  async create(input: NewJob): Promise<JobRecord> {
    return this.#transaction(async (client) => {
      const global = await readManagerState(client, "FOR SHARE");
      return (await insertJob(client, input, global)) as JobRecord;
    });
  }

  /**
   * Creates a parent job, already planned, with its children, in one transaction: no process ever
   * sees the parent without its plan. A child whose microshard already has a live move is skipped.
   */
  async createFamily(
    parent: NewJob & { step: string },
    children: readonly NewJob[],
  ): Promise<{ parent: JobRecord; children: JobRecord[]; skipped: NewJob[] }> {
    return this.#transaction(async (client) => {
      const global = await readManagerState(client, "FOR SHARE");
      const created = (await insertJob(client, parent, global)) as JobRecord;
      return { parent: created, ...(await insertChildren(client, created.id, children, global)) };
    });
  }

  /** More children for a parent (a drain's next round), skipped as in `createFamily`. */
  async addChildren(
    parentId: number,
    children: readonly NewJob[],
  ): Promise<{ children: JobRecord[]; skipped: NewJob[] }> {
    return this.#transaction(async (client) => {
      const global = await readManagerState(client, "FOR SHARE");
      return insertChildren(client, parentId, children, global);
    });
  }

  /** A move job; undefined when the microshard already has a live move. */
  async createMove(input: {
    microshard: number;
    sourceIsland: number;
    targetIsland: number;
    owner?: string;
    checkpoint?: Record<string, unknown>;
  }): Promise<JobRecord | undefined> {
    return this.#transaction(async (client) => {
      const global = await readManagerState(client, "FOR SHARE");
      return insertJob(client, { type: "move", ...input }, global);
    });
  }

  async get(id: number): Promise<JobRecord | undefined> {
    const { rows } = await this.control.query<JobRow>(
      "SELECT * FROM archipelago.jobs WHERE id = $1",
      [id],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async list(options: { limit?: number; offset?: number } = {}): Promise<JobRecord[]> {
    const { rows } = await this.control.query<JobRow>(
      "SELECT * FROM archipelago.jobs ORDER BY id LIMIT $1 OFFSET $2",
      [options.limit ?? 1000, options.offset ?? 0],
    );
    return rows.map(toJob);
  }

  /** Every job, oldest first (read page by page). */
  async all(): Promise<JobRecord[]> {
    const all: JobRecord[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.list({ limit: PAGE, offset });
      all.push(...page);
      if (page.length < PAGE) return all;
    }
  }

  async count(): Promise<number> {
    const { rows } = await this.control.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM archipelago.jobs",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Jobs that are new, running or stopped, oldest first. */
  async live(): Promise<JobRecord[]> {
    const { rows } = await this.control.query<JobRow>(
      "SELECT * FROM archipelago.jobs WHERE state = ANY($1::text[]) ORDER BY id",
      [LIVE_JOB_STATES],
    );
    return rows.map(toJob);
  }

  async children(parentId: number): Promise<JobRecord[]> {
    const { rows } = await this.control.query<JobRow>(
      "SELECT * FROM archipelago.jobs WHERE parent_id = $1 ORDER BY id",
      [parentId],
    );
    return rows.map(toJob);
  }

  /**
   * Marks a job running for the process about to run it. Refused (undefined) unless the job is new,
   * running (interrupted) or failed: a stopped job must be resumed first, a completed one is done.
   */
  async claim(id: number, detail: string): Promise<JobRecord | undefined> {
    const { rows } = await this.control.query<JobRow>(
      `UPDATE archipelago.jobs SET state = 'running', state_reason = $3, stopped_by = NULL,
              error = NULL, updated_at = now(), history = ${APPEND_HISTORY}
       WHERE id = $1 AND state IN ('new', 'running', 'failed')
       RETURNING *`,
      [id, "running", detail],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /**
   * Applies an operator's `stop` or `resume` to one job (see job-transitions.ts). Returns the job
   * afterwards and whether the command changed it; undefined when there is no such job. A resume
   * also says who runs the job from now on: `owner` (a process that runs it itself) or, when null,
   * whichever manager leads.
   */
  async command(
    id: number,
    command: Extract<JobCommand, "stop" | "resume">,
    reason: string,
    owner: string | null = null,
  ): Promise<{ job: JobRecord; changed: boolean } | undefined> {
    return this.#transaction(async (client) => {
      const global = await readManagerState(client, "FOR SHARE");
      const { rows } = await client.query<JobRow>(
        "SELECT * FROM archipelago.jobs WHERE id = $1 FOR UPDATE",
        [id],
      );
      if (!rows[0]) return undefined;
      const job = toJob(rows[0]);
      const next = jobTransition(job, command, global.state === "running");
      if (next === null) return { job, changed: false };
      if (command === "resume") {
        await client.query("UPDATE archipelago.jobs SET owner = $2 WHERE id = $1", [id, owner]);
      }
      return { job: await applyStatus(client, job.id, next, command, reason), changed: true };
    });
  }

  async managerState(): Promise<ManagerState> {
    return readManagerState(this.control, "");
  }

  /**
   * Sets the global switch and applies it to every job in one transaction (see job-transitions.ts):
   * stopping stops new and running jobs; starting restarts the jobs the switch stopped.
   */
  async setGlobalState(state: GlobalState, reason: string): Promise<ManagerState> {
    return this.#transaction(async (client) => {
      await client.query(
        "UPDATE archipelago.manager_state SET state = $1, reason = $2, updated_at = now()",
        [state, reason],
      );
      const command: JobCommand = state === "running" ? "global-start" : "global-stop";
      const { rows } = await client.query<JobRow>(
        "SELECT * FROM archipelago.jobs WHERE state = ANY($1::text[]) ORDER BY id FOR UPDATE",
        [LIVE_JOB_STATES],
      );
      for (const job of rows.map(toJob)) {
        const next = jobTransition(job, command, state === "running");
        if (next !== null) await applyStatus(client, job.id, next, command, reason);
      }
      return readManagerState(client, "");
    });
  }

  /** Records the leading manager and its heartbeat (for operators to see who leads). */
  async recordLeader(leader: string, since: Date): Promise<void> {
    await this.control.query(
      "UPDATE archipelago.manager_state SET leader = $1, leader_since = $2, heartbeat_at = now()",
      [leader, since],
    );
  }

  async heartbeat(leader: string, measurement?: Record<string, unknown>): Promise<void> {
    await this.control.query(
      `UPDATE archipelago.manager_state SET heartbeat_at = now(),
              measurement = coalesce($2::jsonb, measurement)
       WHERE leader = $1`,
      [leader, measurement === undefined ? null : JSON.stringify(measurement)],
    );
  }

  /** Deletes a job that no process runs and that left nothing to clean up, with its finished children. */
  async delete(id: number): Promise<boolean> {
    return this.#transaction(async (client) => {
      const ids = [id, ...(await this.#childIds(client, id))];
      await client.query(
        "DELETE FROM archipelago.move_objects WHERE job_id = ANY($1::bigint[]) AND dropped_at IS NOT NULL",
        [ids],
      );
      const { rowCount } = await client.query(
        "DELETE FROM archipelago.jobs WHERE id = ANY($1::bigint[])",
        [ids.reverse()],
      );
      return (rowCount ?? 0) > 0;
    });
  }

  async #childIds(client: pg.ClientBase, id: number): Promise<number[]> {
    const { rows } = await client.query<{ id: string }>(
      "SELECT id::text FROM archipelago.jobs WHERE parent_id = $1",
      [id],
    );
    return rows.map((r) => Number(r.id));
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.control.connect();
    try {
      return await inTransaction(client, () => work(client));
    } finally {
      client.release();
    }
  }

  /** Records the step about to run (and its checkpoint) before it runs. */
  async checkpoint(id: number, step: string, checkpoint: Record<string, unknown>): Promise<void> {
    await this.control.query(
      `UPDATE archipelago.jobs SET step = $4, checkpoint = checkpoint || $5::jsonb, updated_at = now(),
              history = ${APPEND_HISTORY}
       WHERE id = $1`,
      [id, "step", `step ${step}`, step, JSON.stringify(checkpoint)],
    );
  }

  async setState(
    id: number,
    state: JobState,
    detail: string,
    extra: { error?: Record<string, unknown> | null; writeBlockMs?: number } = {},
  ): Promise<void> {
    await this.control.query(
      `UPDATE archipelago.jobs SET state = $4, state_reason = $3, updated_at = now(),
              stopped_by = CASE WHEN $4 = 'stopped' THEN stopped_by END,
              error = CASE WHEN $5::boolean THEN $6::jsonb ELSE error END,
              write_block_ms = coalesce($7, write_block_ms),
              history = ${APPEND_HISTORY}
       WHERE id = $1`,
      [
        id,
        state,
        detail,
        state,
        extra.error !== undefined,
        extra.error === undefined || extra.error === null ? null : JSON.stringify(extra.error),
        extra.writeBlockMs ?? null,
      ],
    );
  }

  async note(id: number, type: string, detail: string): Promise<void> {
    await this.control.query(
      `UPDATE archipelago.jobs SET updated_at = now(), history = ${APPEND_HISTORY} WHERE id = $1`,
      [id, type, detail],
    );
  }

  /** Records an object in the cleanup log; call BEFORE creating it. Idempotent. */
  async recordObject(
    id: number,
    island: number,
    kind: MoveObjectKind,
    name: string,
  ): Promise<void> {
    await this.control.query(
      `INSERT INTO archipelago.move_objects (job_id, island, kind, name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (job_id, island, kind, name) DO UPDATE SET dropped_at = NULL`,
      [id, island, kind, name],
    );
  }

  async markDropped(id: number, island: number, kind: MoveObjectKind, name: string): Promise<void> {
    await this.control.query(
      `UPDATE archipelago.move_objects SET dropped_at = now()
       WHERE job_id = $1 AND island = $2 AND kind = $3 AND name = $4`,
      [id, island, kind, name],
    );
  }

  async objects(id: number): Promise<MoveObject[]> {
    const { rows } = await this.control.query<{
      island: number;
      kind: MoveObjectKind;
      name: string;
      dropped_at: Date | null;
    }>(
      "SELECT island, kind, name, dropped_at FROM archipelago.move_objects WHERE job_id = $1 ORDER BY recorded_at",
      [id],
    );
    return rows.map((r) => ({
      island: r.island,
      kind: r.kind,
      name: r.name,
      droppedAt: r.dropped_at,
    }));
  }
}

async function insertChildren(
  client: pg.ClientBase,
  parentId: number,
  children: readonly NewJob[],
  global: ManagerState,
): Promise<{ children: JobRecord[]; skipped: NewJob[] }> {
  const created: JobRecord[] = [];
  const skipped: NewJob[] = [];
  for (const child of children) {
    const job = await insertJob(client, { ...child, parentId }, global);
    if (job) created.push(job);
    else skipped.push(child);
  }
  return { children: created, skipped };
}

/**
 * Inserts one job in the state the global switch dictates. A move whose microshard already has a live
 * move is not inserted (undefined): the partial unique index says so without aborting the transaction.
 */
async function insertJob(
  client: pg.ClientBase,
  input: NewJob & { step?: string },
  global: ManagerState,
): Promise<JobRecord | undefined> {
  const status = initialStatus(global.state === "running");
  const { rows } = await client.query<JobRow>(
    `INSERT INTO archipelago.jobs (type, parent_id, state, stopped_by, state_reason, params,
                                   microshard, source_island, target_island, checkpoint, step, owner,
                                   history)
     VALUES ($2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::jsonb, $12, $13,
             jsonb_build_array(jsonb_build_object('at', to_char(clock_timestamp() AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'type', 'created', 'detail', $1::text)))
     ${
       input.type === "move"
         ? "ON CONFLICT (microshard) WHERE type = 'move' AND state IN ('new', 'running', 'stopped') DO NOTHING"
         : ""
     }
     RETURNING *`,
    [
      `${input.type} job created${status.state === "stopped" ? " (waits: the manager is stopped)" : ""}`,
      input.type,
      input.parentId ?? null,
      status.state,
      status.stoppedBy,
      status.state === "stopped"
        ? `the manager is stopped: ${global.reason ?? "no reason given"}`
        : null,
      JSON.stringify(input.params ?? {}),
      input.microshard ?? null,
      input.sourceIsland ?? null,
      input.targetIsland ?? null,
      JSON.stringify(input.checkpoint ?? {}),
      input.step ?? "new",
      input.owner ?? null,
    ],
  );
  return rows[0] ? toJob(rows[0]) : undefined;
}

async function readManagerState(
  client: pg.ClientBase | pg.Pool,
  lock: "" | "FOR SHARE",
): Promise<ManagerState> {
  const { rows } = await client.query<{
    state: GlobalState;
    reason: string | null;
    updated_at: Date;
    leader: string | null;
    leader_since: Date | null;
    heartbeat_at: Date | null;
    measurement: Record<string, unknown> | null;
  }>(`SELECT * FROM archipelago.manager_state ${lock}`);
  const row = rows[0];
  if (!row) throw new Error("the control catalog has no manager_state row; reinstall the catalog");
  return {
    state: row.state,
    reason: row.reason,
    updatedAt: row.updated_at,
    leader: row.leader,
    leaderSince: row.leader_since,
    heartbeatAt: row.heartbeat_at,
    measurement: row.measurement,
  };
}

async function applyStatus(
  client: pg.ClientBase,
  id: number,
  next: JobStatus,
  command: JobCommand,
  reason: string,
): Promise<JobRecord> {
  const { rows } = await client.query<JobRow>(
    `UPDATE archipelago.jobs SET state = $4, stopped_by = $5, state_reason = $3, updated_at = now(),
            history = ${APPEND_HISTORY}
     WHERE id = $1 RETURNING *`,
    [id, command, reason, next.state, next.stoppedBy],
  );
  return toJob(rows[0] as JobRow);
}
