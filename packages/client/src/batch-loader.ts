/**
 * Batched point loads: every `shard.load(table, column, value)` issued in the same tick is answered by
 * one statement per island, however many microshards it spans.
 *
 * DataLoader collects the tick's requests. They are grouped by (table, column, read role, session) and
 * then by the island each microshard lives on; each island gets one statement that unions one
 * schema-qualified SELECT per microshard:
 *
 *   SELECT 3 AS "__microshard", t.* FROM sh0003.users t WHERE t.id = ANY($1)
 *   UNION ALL SELECT 7, t.* FROM sh0007.users t WHERE t.id = ANY($2)
 *
 * A group whose microshards are no longer on one island when it runs (a move happened between grouping
 * and routing) is regrouped; every other failure is the executor's to retry or to report, per key.
 */

import { microshardSchema } from "@archipelago/topology";
import DataLoader from "dataloader";
import type { MapSource } from "./discovery.js";
import { type Executor, type ReadRole, SplitAcrossIslandsSignal } from "./executor.js";
import { append } from "./internal/append.js";
import { SessionIds } from "./internal/session-ids.js";
import type { Session } from "./session.js";
import { quoteIdentifier } from "./sql-guard.js";

export interface LoadRequest {
  readonly microshard: number;
  readonly table: string;
  readonly column: string;
  readonly value: unknown;
  readonly role: ReadRole;
  readonly session: Session | undefined;
}

type Row = Record<string, unknown>;

const MICROSHARD_COLUMN = "__microshard";

export class BatchLoader {
  readonly #loader: DataLoader<LoadRequest, Row | undefined>;
  readonly #sessionIds = new SessionIds();

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
    const results: (Row | undefined | Error)[] = new Array(requests.length);
    // The common case: one tick's loads all share table, column, role and session; no keys to build.
    const first = requests[0] as LoadRequest;
    if (requests.every((r) => sameSource(r, first))) {
      await this.#loadGroup(requests, Array.from(requests.keys()), results);
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
  async #loadGroup(
    requests: readonly LoadRequest[],
    indexes: readonly number[],
    results: (Row | undefined | Error)[],
  ): Promise<void> {
    const map = this.discovery.map;
    const byIsland = new Map<number, number[]>();
    for (const index of indexes) {
      const microshard = (requests[index] as LoadRequest).microshard;
      const placement = map.locate(microshard);
      // Microshards not active in the map (unknown yet, or mid-switch) go alone: the executor waits
      // for them or reports them missing, without holding up the rest.
      const key = placement.kind === "active" ? placement.island : -1 - microshard;
      append(byIsland, key, index);
    }
    // One island (the common case) runs without the Promise.all machinery.
    if (byIsland.size === 1) {
      await this.#loadIslandGroup(requests, [...byIsland.values()][0] as number[], results);
      return;
    }
    await Promise.all(
      [...byIsland.values()].map((group) => this.#loadIslandGroup(requests, group, results)),
    );
  }

  async #loadIslandGroup(
    requests: readonly LoadRequest[],
    group: readonly number[],
    results: (Row | undefined | Error)[],
  ): Promise<void> {
    try {
      const rows = await this.#runIslandStatement(requests, group);
      for (const index of group) {
        const request = requests[index] as LoadRequest;
        results[index] = rows.get(request.microshard)?.get(String(request.value));
      }
    } catch (error) {
      if (error instanceof SplitAcrossIslandsSignal) {
        await this.#loadGroup(requests, group, results);
        return;
      }
      if (isShapeMismatch(error) && new Set(group.map((i) => requests[i]?.microshard)).size > 1) {
        // The microshards' tables differ (a migration is rolling out): one statement each.
        const byMicroshard = new Map<number, number[]>();
        for (const i of group) {
          const m = (requests[i] as LoadRequest).microshard;
          append(byMicroshard, m, i);
        }
        // Each microshard alone: the same path, which cannot meet a shape mismatch again.
        await Promise.all(
          [...byMicroshard.values()].map((one) => this.#loadIslandGroup(requests, one, results)),
        );
        return;
      }
      for (const index of group) results[index] = error as Error;
    }
  }

  async #runIslandStatement(
    requests: readonly LoadRequest[],
    group: readonly number[],
  ): Promise<Map<number, Map<string, Row>>> {
    const first = requests[group[0] as number] as LoadRequest;
    const valuesByMicroshard = new Map<number, unknown[]>();
    for (const index of group) {
      const request = requests[index] as LoadRequest;
      append(valuesByMicroshard, request.microshard, request.value);
    }
    const microshards = [...valuesByMicroshard.keys()];
    const table = quoteIdentifier(first.table);
    const column = quoteIdentifier(first.column);
    const sql = microshards
      .map(
        (microshard, i) =>
          `SELECT ${microshard} AS "${MICROSHARD_COLUMN}", t.* FROM ${microshardSchema(microshard)}.${table} t WHERE t.${column} = ANY($${i + 1})`,
      )
      .join("\nUNION ALL\n");
    const params = microshards.map((m) => valuesByMicroshard.get(m));
    return this.executor.execute({
      microshards,
      write: false,
      idempotent: true,
      role: first.role,
      session: first.session,
      batchSize: group.length,
      run: async (client) => {
        const { rows } = await client.query<Row>(sql, params);
        // microshard → value as text → row: bigint IDs come back from pg as strings.
        const found = new Map<number, Map<string, Row>>();
        for (const microshard of microshards) found.set(microshard, new Map());
        for (const row of rows) {
          const { [MICROSHARD_COLUMN]: microshard, ...rest } = row;
          found.get(Number(microshard))?.set(String(row[first.column]), rest);
        }
        return found;
      },
    });
  }
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
