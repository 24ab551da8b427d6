/**
 * One microshard as seen by callers: statements and transactions routed to wherever it lives now.
 *
 * `shard.schema` is the schema name to qualify tables with (`sh0042.users`); it is the same on every
 * island, so a statement written once keeps working after the microshard moves.
 */
import { microshardSchema } from "@archipelago/topology";
import type pg from "pg";
import type { BatchLoader } from "./batch-loader.js";
import type { BatchWriter } from "./batch-writer.js";
import { CallerError, type Executor, type ReadRole } from "./executor.js";
import { query } from "./internal/query.js";
import type { Session } from "./session.js";
import { assertOwnMicroshard } from "./sql-guard.js";

export interface QueryOptions {
  /** How a read may be served. @default "auto" */
  readonly role?: ReadRole;
  /** A write: goes to the master, and records the session's read-after-write position. @default false */
  readonly write?: boolean;
  /** The write may be repeated safely if its first outcome is unknown. @default false */
  readonly idempotent?: boolean;
  readonly session?: Session;
  /** Overrides the retry deadline for this call. */
  readonly deadlineMs?: number;
}

export interface TransactionOptions {
  readonly session?: Session;
  readonly deadlineMs?: number;
}

/** Errors that came from the driver inside a transaction callback (the rest are the caller's own). */
const driverErrors = new WeakSet<object>();

/** The statements of one transaction; valid only inside the `transaction` callback. */
export class ShardTransaction {
  #open = true;

  constructor(
    private readonly client: pg.PoolClient,
    readonly microshard: number,
  ) {}

  get schema(): string {
    return microshardSchema(this.microshard);
  }

  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<Row[]> {
    if (!this.#open)
      throw new Error("this transaction has ended; run statements inside its callback");
    assertOwnMicroshard(sql, this.microshard);
    try {
      const result = await query<Row>(this.client, sql, params);
      return result.rows;
    } catch (error) {
      if (typeof error === "object" && error !== null) driverErrors.add(error);
      throw error;
    }
  }

  close(): void {
    this.#open = false;
  }
}

export class Shard {
  constructor(
    readonly microshard: number,
    private readonly executor: Executor,
    private readonly loader: BatchLoader,
    private readonly writer: BatchWriter,
  ) {}

  get schema(): string {
    return microshardSchema(this.microshard);
  }

  /** Runs one statement with bound parameters where this microshard lives. */
  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<Row[]> {
    assertOwnMicroshard(sql, this.microshard);
    const write = options.write ?? false;
    return this.executor.execute({
      microshards: [this.microshard],
      write,
      idempotent: !write || (options.idempotent ?? false),
      role: options.role ?? "auto",
      session: options.session,
      batchSize: 1,
      ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      run: async (client) => (await query<Row>(client, sql, params)).rows,
    });
  }

  /**
   * Loads the row of `table` whose `column` equals `value` (undefined when none). Concurrent loads in
   * one tick are batched: one statement per island, whatever the number of microshards.
   */
  load<Row extends Record<string, unknown> = Record<string, unknown>>(
    table: string,
    column: string,
    value: unknown,
    options: Pick<QueryOptions, "role" | "session"> = {},
  ): Promise<Row | undefined> {
    return this.loader.load({
      microshard: this.microshard,
      table,
      column,
      value,
      role: options.role ?? "auto",
      session: options.session,
    }) as Promise<Row | undefined>;
  }

  /**
   * Inserts one row into `table` and resolves with the stored row (defaults and the generated ID
   * included). Concurrent inserts in one tick are batched: one statement per island; a row-level error
   * (constraint, bad value) fails only its own row. Not idempotent: a lost connection mid-statement
   * gives `OutcomeUnknownError`.
   */
  insert<Row extends Record<string, unknown> = Record<string, unknown>>(
    table: string,
    row: Readonly<Record<string, unknown>>,
    options: { session?: Session } = {},
  ): Promise<Row> {
    return this.writer.insert({
      microshard: this.microshard,
      table,
      row,
      session: options.session,
    }) as Promise<Row>;
  }

  /**
   * Runs `work` in one transaction on this microshard's master. Retried as a whole only when it
   * provably did not commit (any failure before COMMIT was sent), so `work` may run more than once and
   * must not have effects outside the database it cannot repeat.
   */
  transaction<T>(
    work: (tx: ShardTransaction) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    let commitSent = false;
    return this.executor.execute({
      microshards: [this.microshard],
      write: true,
      idempotent: () => !commitSent,
      role: "master",
      session: options.session,
      batchSize: 1,
      reason: "transaction",
      ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      run: async (client) => {
        commitSent = false;
        await query(client, "BEGIN");
        const tx = new ShardTransaction(client, this.microshard);
        let result: T;
        try {
          result = await work(tx);
        } catch (error) {
          tx.close();
          await query(client, "ROLLBACK").catch(() => {});
          // Only the driver's errors are classified and maybe retried; the caller's own are rethrown.
          const fromDriver = typeof error === "object" && error !== null && driverErrors.has(error);
          throw fromDriver ? error : new CallerError(error);
        }
        tx.close();
        commitSent = true;
        await query(client, "COMMIT");
        return result;
      },
    });
  }
}
