/**
 * Batched point loads: every `shard.load(table, column, value)` issued in the same tick is answered by
 * one statement per island, however many microshards it spans.
 *
 * DataLoader collects the tick's requests. They are grouped by (table, column, read role, session) and
 * then by the island each microshard lives on; each island gets one statement (its text is built in
 * internal/load-statement.ts and cached per shape): a plain SELECT when the group is one microshard,
 * else one schema-qualified SELECT per microshard, unioned, each row marked with its microshard:
 *
 *   SELECT 3 AS "__microshard", t.* FROM sh0003."users" t WHERE t."id" = ANY($1)
 *   UNION ALL SELECT 7 AS "__microshard", t.* FROM sh0007."users" t WHERE t."id" = ANY($2)
 *
 * A group whose microshards are no longer on one island when it runs (a move happened between grouping
 * and routing) is regrouped; every other failure is the executor's to retry or to report, per key.
 *
 * This is the hot path of every point read: per load it does a field comparison, a map lookup only when
 * the microshard changes from the previous load, and one map lookup for its row; per batch it builds no
 * SQL text for a shape it has seen.
 */

import DataLoader from "dataloader";
import type pg from "pg";
import type { MapSource } from "./discovery.js";
import { type Executor, type ReadRole, SplitAcrossIslandsSignal } from "./executor.js";
import { append } from "./internal/append.js";
import {
  groupByMicroshard,
  indexMarkedRows,
  LoadStatements,
  type MicroshardLoads,
  RowCopiers,
} from "./internal/load-statement.js";
import { query } from "./internal/query.js";
import { SessionIds } from "./internal/session-ids.js";
import type { Session } from "./session.js";

export interface LoadRequest {
  readonly microshard: number;
  readonly table: string;
  readonly column: string;
  readonly value: unknown;
  readonly role: ReadRole;
  readonly session: Session | undefined;
}

type Row = Record<string, unknown>;

export class BatchLoader {
  readonly #loader: DataLoader<LoadRequest, Row | undefined>;
  readonly #sessionIds = new SessionIds();
  readonly #statements = new LoadStatements();
  readonly #copiers = new RowCopiers();

  constructor(
    private readonly executor: Executor,
    private readonly discovery: MapSource,
    maxBatchSize: number,
  ) {
    this.#loader = new DataLoader((requests) => this.#loadBatch(requests), {
      cache: false,
      maxBatchSize,
    });
  }

  load(request: LoadRequest): Promise<Row | undefined> {
    return this.#loader.load(request);
  }

  async #loadBatch(requests: readonly LoadRequest[]): Promise<(Row | undefined | Error)[]> {
    const count = requests.length;
    const results: (Row | undefined | Error)[] = new Array(count);
    // The common case: one tick's loads all share table, column, role and session; no keys to build.
    const first = requests[0] as LoadRequest;
    let uniform = true;
    for (let i = 1; i < count; i++) {
      if (!sameSource(requests[i] as LoadRequest, first)) {
        uniform = false;
        break;
      }
    }
    if (uniform) {
      const all: number[] = new Array(count);
      for (let i = 0; i < count; i++) all[i] = i;
      await this.#loadGroup(requests, all, results);
      return results;
    }
    const bySource = new Map<string, number[]>();
    requests.forEach((request, index) => {
      const key = `${request.table}\u0000${request.column}\u0000${request.role}\u0000${this.#sessionIds.of(request.session)}`;
      append(bySource, key, index);
    });
    await Promise.all(
      [...bySource.values()].map((indexes) => this.#loadGroup(requests, indexes, results)),
    );
    return results;
  }

  /** Loads requests that share table, column, role and session: one statement per island. */
  #loadGroup(
    requests: readonly LoadRequest[],
    indexes: readonly number[],
    results: (Row | undefined | Error)[],
  ): Promise<void> {
    return this.#loadMicroshards(requests, groupByMicroshard(requests, indexes), results);
  }

  /** Groups microshards by the island each lives on (one map lookup per microshard) and loads each. */
  async #loadMicroshards(
    requests: readonly LoadRequest[],
    groups: readonly MicroshardLoads[],
    results: (Row | undefined | Error)[],
  ): Promise<void> {
    const map = this.discovery.map;
    const byIsland = new Map<number, MicroshardLoads[]>();
    for (const group of groups) {
      const placement = map.locate(group.microshard);
      // Microshards not active in the map (unknown yet, or mid-switch) go alone: the executor waits
      // for them or reports them missing, without holding up the rest.
      append(
        byIsland,
        placement.kind === "active" ? placement.island : -1 - group.microshard,
        group,
      );
    }
    // One island (the common case) runs without the Promise.all machinery.
    if (byIsland.size === 1) {
      await this.#loadIsland(requests, groups, results);
      return;
    }
    await Promise.all(
      [...byIsland.values()].map((onIsland) => this.#loadIsland(requests, onIsland, results)),
    );
  }

  async #loadIsland(
    requests: readonly LoadRequest[],
    groups: readonly MicroshardLoads[],
    results: (Row | undefined | Error)[],
  ): Promise<void> {
    try {
      await this.#runIslandStatement(requests, groups, results);
    } catch (error) {
      if (error instanceof SplitAcrossIslandsSignal) {
        await this.#loadMicroshards(requests, groups, results);
        return;
      }
      if (isShapeMismatch(error) && groups.length > 1) {
        // The microshards' tables differ (a migration is rolling out): one statement each, on the
        // same path, which cannot meet a shape mismatch again.
        await Promise.all(groups.map((one) => this.#loadIsland(requests, [one], results)));
        return;
      }
      for (const group of groups)
        for (const index of group.indexes) results[index] = error as Error;
    }
  }

  /** The statement of several microshards: its rows by microshard and value, without the marker. */
  #markedRun(
    text: string,
    params: unknown[],
    column: string,
  ): (client: pg.PoolClient) => Promise<Map<number, Map<string, Row>>> {
    return (client) =>
      query<Row>(client, text, params).then((result) =>
        indexMarkedRows(result.rows, column, this.#copiers.for(result.fields)),
      );
  }

  /** Runs one island's statement and, once it succeeded, writes each request's row into `results`. */
  async #runIslandStatement(
    requests: readonly LoadRequest[],
    groups: readonly MicroshardLoads[],
    results: (Row | undefined | Error)[],
  ): Promise<void> {
    const first = requests[(groups[0] as MicroshardLoads).indexes[0] as number] as LoadRequest;
    const column = first.column;
    if (groups.length === 1) {
      // One microshard: every row is its own, found by its value as text (bigint IDs come back as
      // strings).
      const { microshard, indexes, values } = groups[0] as MicroshardLoads;
      const text = this.#statements.text(first.table, column, [microshard]);
      const rows = await this.executor.execute({
        microshards: [microshard],
        write: false,
        idempotent: true,
        role: first.role,
        session: first.session,
        batchSize: indexes.length,
        run: plainRun(text, [values]),
      });
      const found = new Map<string, Row>();
      for (const row of rows) found.set(String(row[column]), row);
      fill(results, indexes, values, found);
      return;
    }
    // Ascending, so that one set of microshards always makes one statement text.
    const sorted = [...groups].sort((a, b) => a.microshard - b.microshard);
    const microshards = sorted.map((g) => g.microshard);
    const text = this.#statements.text(first.table, column, microshards);
    let batchSize = 0;
    for (const group of sorted) batchSize += group.indexes.length;
    const found = await this.executor.execute({
      microshards,
      write: false,
      idempotent: true,
      role: first.role,
      session: first.session,
      batchSize,
      run: this.#markedRun(
        text,
        sorted.map((g) => g.values),
        column,
      ),
    });
    const none = new Map<string, Row>();
    for (const { microshard, indexes, values } of sorted) {
      fill(results, indexes, values, found.get(microshard) ?? none);
    }
  }
}

/** The statement of one microshard: its rows as they are. */
function plainRun(text: string, params: unknown[]): (client: pg.PoolClient) => Promise<Row[]> {
  return (client) => query<Row>(client, text, params).then(rowsOf);
}

/** Each request's row by its value as text, or undefined when the statement found none. */
function fill(
  results: (Row | undefined | Error)[],
  indexes: readonly number[],
  values: readonly unknown[],
  found: ReadonlyMap<string, Row>,
): void {
  for (let i = 0; i < indexes.length; i++) {
    results[indexes[i] as number] = found.get(String(values[i]));
  }
}

function rowsOf(result: { rows: Row[] }): Row[] {
  return result.rows;
}

function sameSource(a: LoadRequest, b: LoadRequest): boolean {
  return (
    a.table === b.table && a.column === b.column && a.role === b.role && a.session === b.session
  );
}

/** UNION ALL over tables whose columns differ: 42601 (column count) or 42804 (column types). */
function isShapeMismatch(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "42601" || code === "42804";
}
