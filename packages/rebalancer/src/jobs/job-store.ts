/**
 * Persistent jobs and the move cleanup log, in the control catalog (the global island's master).
 *
 * A job row is the single source of truth for where a move is: its `step` and `checkpoint` are written
 * before the step runs, so a mover that dies at any point and is started again knows which step to
 * redo (every step is idempotent). Every object a move creates is recorded in `move_objects` before it
 * is created, so whatever a crash leaves can be found and dropped.
 */
import type pg from "pg";

export type JobState = "new" | "running" | "stopped" | "failed" | "completed";
export type JobType = "move" | "rebalance" | "drain" | "allocate" | "cleanup";
export type MoveObjectKind = "schema" | "publication" | "slot" | "subscription";

export interface HistoryEntry {
  readonly at: string;
  readonly type: string;
  readonly detail: string;
}

export interface JobRecord {
  readonly id: number;
  readonly type: JobType;
  readonly state: JobState;
  readonly stateReason: string | null;
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

/** History entries kept per job (oldest dropped first). */
export const HISTORY_LIMIT = 100;

interface JobRow {
  id: string;
  type: JobType;
  state: JobState;
  state_reason: string | null;
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
    state: row.state,
    stateReason: row.state_reason,
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

  async createMove(input: {
    microshard: number;
    sourceIsland: number;
    targetIsland: number;
    checkpoint?: Record<string, unknown>;
  }): Promise<JobRecord> {
    const { rows } = await this.control.query<JobRow>(
      `INSERT INTO archipelago.jobs (type, microshard, source_island, target_island, checkpoint, history)
       VALUES ('move', $1, $2, $3, $4::jsonb,
               jsonb_build_array(jsonb_build_object('at', to_char(clock_timestamp() AT TIME ZONE 'UTC',
                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'type', 'created', 'detail', 'move job created')))
       RETURNING *`,
      [
        input.microshard,
        input.sourceIsland,
        input.targetIsland,
        JSON.stringify(input.checkpoint ?? {}),
      ],
    );
    return toJob(rows[0] as JobRow);
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
