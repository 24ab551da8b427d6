/**
 * Batched inserts: every `shard.insert(table, row)` issued in the same tick is written by one
 * statement per island, with one data-modifying CTE per microshard:
 *
 *   WITH w0 AS (INSERT INTO sh0003.items ("n", "note")
 *               SELECT r."n", r."note" FROM json_populate_recordset(NULL::sh0003.items, $1)
 *                 WITH ORDINALITY AS r ORDER BY r.ordinality RETURNING *),
 *        w1 AS (… sh0007 …)
 *   SELECT 0 AS "__w", w0.* FROM w0 UNION ALL SELECT 1, w1.* FROM w1
 *
 * Rows come back in the order they were fed (INSERT … SELECT … ORDER BY returns them as inserted), so
 * each caller gets its own row, default-generated ID included.
 *
 * One statement is atomic: one bad row (a unique violation, a NULL in a NOT NULL column) would fail its
 * neighbours. So a batch that fails with a row-level error (SQLSTATE classes 22 and 23) is split in
 * halves and each half retried on its own, down to the single bad row, which alone gets the error.
 * That is safe because a failed statement was rolled back as a whole. Any other error fails the batch.
 */

import { microshardSchema } from "@archipelago/topology";
import DataLoader from "dataloader";
import type { MapSource } from "./discovery.js";
import { type Executor, SplitAcrossIslandsSignal } from "./executor.js";
import { append } from "./internal/append.js";
import { query } from "./internal/query.js";
import { SessionIds } from "./internal/session-ids.js";
import type { Session } from "./session.js";
import { quoteIdentifier } from "./sql-guard.js";

export interface InsertRequest {
  readonly microshard: number;
  readonly table: string;
  readonly row: Readonly<Record<string, unknown>>;
  readonly session: Session | undefined;
}

type Row = Record<string, unknown>;
type Outcome = Row | Error;

/** Errors caused by the data of one row; only these are worth splitting a batch for. */
function isRowLevel(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^2[23][0-9A-Z]{3}$/.test(code);
}

export class BatchWriter {
  readonly #loader: DataLoader<InsertRequest, Row>;
  readonly #sessionIds = new SessionIds();

  constructor(
    private readonly executor: Executor,
    private readonly discovery: MapSource,
    maxBatchSize: number,
  ) {
    this.#loader = new DataLoader((requests) => this.#writeBatch(requests), {
      cache: false,
      maxBatchSize,
    });
  }

  insert(request: InsertRequest): Promise<Row> {
    return this.#loader.load(request);
  }

  async #writeBatch(requests: readonly InsertRequest[]): Promise<Outcome[]> {
    const results: Outcome[] = new Array(requests.length);
    const groups = new Map<string, number[]>();
    const map = this.discovery.map;
    requests.forEach((request, index) => {
      const placement = map.locate(request.microshard);
      const where =
        placement.kind === "active" ? `island:${placement.island}` : `alone:${request.microshard}`;
      const columns = Object.keys(request.row).sort().join(",");
      const key = `${request.table}\u0000${columns}\u0000${this.#sessionIds.of(request.session)}\u0000${where}`;
      append(groups, key, index);
    });
    await Promise.all(
      [...groups.values()].map((group) => this.#writeGroup(requests, group, results)),
    );
    return results;
  }

  async #writeGroup(
    requests: readonly InsertRequest[],
    group: readonly number[],
    results: Outcome[],
  ): Promise<void> {
    try {
      const rows = await this.#runStatement(requests, group);
      group.forEach((index, i) => {
        results[index] = rows[i] as Row;
      });
    } catch (error) {
      if (error instanceof SplitAcrossIslandsSignal) {
        // A move split the group between islands: write each microshard's rows on their own.
        const byMicroshard = new Map<number, number[]>();
        for (const index of group) {
          const m = (requests[index] as InsertRequest).microshard;
          append(byMicroshard, m, index);
        }
        await Promise.all(
          [...byMicroshard.values()].map((g) => this.#writeGroup(requests, g, results)),
        );
        return;
      }
      if (group.length > 1 && isRowLevel(error)) {
        const half = Math.ceil(group.length / 2);
        await this.#writeGroup(requests, group.slice(0, half), results);
        await this.#writeGroup(requests, group.slice(half), results);
        return;
      }
      for (const index of group) results[index] = error as Error;
    }
  }

  async #runStatement(
    requests: readonly InsertRequest[],
    group: readonly number[],
  ): Promise<Row[]> {
    const first = requests[group[0] as number] as InsertRequest;
    const columns = Object.keys(first.row).sort();
    const rowsByMicroshard = new Map<number, number[]>();
    for (const index of group) {
      const m = (requests[index] as InsertRequest).microshard;
      append(rowsByMicroshard, m, index);
    }
    const microshards = [...rowsByMicroshard.keys()];
    const table = quoteIdentifier(first.table);
    const columnList = columns.map(quoteIdentifier).join(", ");
    const selectList = columns.map((c) => `r.${quoteIdentifier(c)}`).join(", ");
    const ctes = microshards.map((m, i) => {
      const target = `${microshardSchema(m)}.${table}`;
      const source = `json_populate_recordset(NULL::${target}, $${i + 1}::json) WITH ORDINALITY AS r`;
      return columns.length === 0
        ? `w${i} AS (INSERT INTO ${target} SELECT FROM ${source.replace(" AS r", "")} RETURNING *)`
        : `w${i} AS (INSERT INTO ${target} (${columnList}) SELECT ${selectList} FROM ${source} ORDER BY r.ordinality RETURNING *)`;
    });
    const sql = `WITH ${ctes.join(",\n")}\n${microshards
      .map((_, i) => `SELECT ${i} AS "__w", w${i}.* FROM w${i}`)
      .join("\nUNION ALL\n")}`;
    const params = microshards.map((m) =>
      JSON.stringify(
        (rowsByMicroshard.get(m) ?? []).map((index) => (requests[index] as InsertRequest).row),
        jsonValue,
      ),
    );
    const ordered = microshards.flatMap((m) => rowsByMicroshard.get(m) ?? []);
    const rows = await this.executor.execute({
      microshards,
      write: true,
      idempotent: false,
      role: "master",
      session: first.session,
      batchSize: group.length,
      run: async (client) => (await query<Row>(client, sql, params)).rows,
    });
    if (rows.length !== ordered.length) {
      throw new Error(`batched insert returned ${rows.length} rows for ${ordered.length} inputs`);
    }
    // Results in the order of `group`: statement order is microshard by microshard.
    const byIndex = new Map<number, Row>();
    const expectedCte = microshards.flatMap((m, i) => (rowsByMicroshard.get(m) ?? []).map(() => i));
    ordered.forEach((index, i) => {
      const { __w: cte, ...row } = rows[i] as Row;
      // Rows are matched to callers by position; a CTE out of order would hand callers each other's
      // rows, so the order is checked, never assumed.
      if (Number(cte) !== expectedCte[i]) {
        throw new Error(
          "batched insert returned rows out of order; refusing to guess which is whose",
        );
      }
      byIndex.set(index, row);
    });
    return group.map((index) => byIndex.get(index) as Row);
  }
}

/** JSON for json_populate_recordset: bigints as decimal strings, dates as ISO timestamps. */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
