/**
 * An entity: typed CRUD over one table that lives in every microshard (or in shard 0), routed by the
 * microshard in each ID.
 *
 * Every call takes a `Viewer` and goes through `@archipelago/client`, which finds the island, picks a
 * replica only once it has replayed the viewer's writes, and retries through moves and failovers. The
 * entity layer adds what only it knows: where a new row goes (shard affinity), which microshards a
 * query must visit (the where clause, inverses), privacy, triggers, and parsing rows once at the edge.
 *
 * Loads by ID and by a single-column unique key use the client's batched `load`, so all loads issued in
 * one tick cost one statement per island, whatever entity method issued them. Inserts use the client's
 * batched `insert`. Everything else is one statement per microshard.
 */
import type { Cluster, Session, Shard } from "@archipelago/client";
import { OutcomeUnknownError } from "@archipelago/client";
import { GLOBAL_MICROSHARD, microshardSchema } from "@archipelago/topology";
import { z } from "zod";
import { columnName } from "./column-name.js";
import { compileWhere } from "./compile-where.js";
import { ENT_DEFAULTS } from "./defaults.js";
import type { AffinityFields, EntConfig, EntTriggers, ShardSpec, WriteRow } from "./ent-config.js";
import {
  EntNotFoundError,
  EntNotReadableError,
  EntNotWritableError,
  EntQueryError,
  EntValidationError,
} from "./ent-errors.js";
import {
  countStatement,
  deleteStatement,
  insertStatement,
  type Statement,
  selectStatement,
  type TableRef,
  uniqueKeyStatement,
  updateStatement,
} from "./ent-sql.js";
import type {
  AnyOrderBy,
  AnyWhere,
  Fields,
  InsertInput,
  OrderBy,
  RowOf,
  UniqueKeyInput,
  UpdateInput,
  Where,
} from "./ent-types.js";
import { fieldKind, isDbDefault, schemaOf, toDb } from "./field-kind.js";
import type { FieldMeta } from "./field-meta.js";
import { GlobalCache } from "./global-cache.js";
import { knownMicroshards } from "./internal/known-microshards.js";
import { runLimited } from "./internal/run-limited.js";
import {
  addFreshInverse,
  addInverse,
  findInverse,
  type InverseRef,
  removeInverse,
} from "./inverse-store.js";
import { mergeOrdered, type OrderKey } from "./merge-ordered.js";
import { type Decision, evaluateRead, evaluateWrite } from "./privacy-rules.js";
import { placeByKey } from "./random-placement.js";
import { pinnedIds } from "./route-where.js";
import { insertRecord, rowParser } from "./row-codec.js";
import type { Viewer, ViewerCache } from "./viewer.js";

type AnyRow = Record<string, unknown>;

export interface SelectOptions<R> {
  readonly where: Where<R>;
  /** @default by id ascending */
  readonly order?: readonly OrderBy<R>[];
  /** Required: a select never returns an unbounded number of rows. */
  readonly limit: number;
}

export interface SelectAcrossOptions<R> extends SelectOptions<R> {
  /** The microshards to visit; every microshard of the cluster when omitted. */
  readonly microshards?: readonly number[];
}

export interface IterateOptions<R> {
  readonly where: Where<R>;
  /** Rows per chunk. @default ENT_DEFAULTS.iterateChunk */
  readonly chunk?: number;
  /** Resume after this ID (the last ID of the previous chunk). */
  readonly after?: string;
  /** Visit every microshard when the where does not pin any (an explicit fan-out). @default false */
  readonly across?: boolean;
}

type Affinity =
  | { readonly kind: "global" }
  | { readonly kind: "random"; readonly key: readonly string[] | undefined }
  | { readonly kind: "colocate"; readonly field: string };

export class Ent<
  Fs extends Fields,
  S extends ShardSpec<keyof Fs & string>,
  U extends readonly (readonly (keyof Fs & string)[])[],
> {
  readonly name: string;
  readonly table: string;
  readonly #config: EntConfig<Fs, S, U>;
  readonly #ref: TableRef;
  readonly #parse: (raw: AnyRow) => RowOf<Fs>;
  /** The client's load result → the row or null; one function per entity, not a closure per load. */
  readonly #parseFound: (raw: AnyRow | undefined) => RowOf<Fs> | null;
  readonly #insertSchema: z.ZodType<AnyRow>;
  readonly #updateSchema: z.ZodType<AnyRow>;
  readonly #affinity: Affinity;
  readonly #routingFields: readonly string[];
  readonly #inverses: readonly string[];
  readonly #unique: readonly (readonly string[])[];
  readonly #triggers: EntTriggers<Fs, AffinityFields<S>>;
  readonly #globalCache: GlobalCache<RowOf<Fs>> | undefined;

  /** Use `defineEnt`, which checks the config first. */
  constructor(config: EntConfig<Fs, S, U>) {
    this.#config = config;
    this.name = config.name;
    this.table = config.table;
    const metas = new Map<string, FieldMeta>([
      ["id", { field: "id", column: "id", kind: "id", nullable: false }],
    ]);
    const insertShape: Record<string, z.ZodType> = {};
    const updateShape: Record<string, z.ZodType> = {};
    const shard = config.shard as ShardSpec<string>;
    this.#affinity =
      shard === "global"
        ? { kind: "global" }
        : shard === "random"
          ? { kind: "random", key: undefined }
          : "random" in shard
            ? { kind: "random", key: shard.random }
            : { kind: "colocate", field: shard.colocate };
    const immutable = new Set(
      this.#affinity.kind === "colocate"
        ? [this.#affinity.field]
        : this.#affinity.kind === "random"
          ? (this.#affinity.key ?? [])
          : [],
    );
    for (const [field, spec] of Object.entries(config.fields)) {
      const { kind, nullable } = fieldKind(spec);
      metas.set(field, { field, column: columnName(field), kind, nullable });
      const schema = schemaOf(spec);
      insertShape[field] = isDbDefault(spec) || nullable ? schema.optional() : schema;
      if (!immutable.has(field)) updateShape[field] = schema.optional();
    }
    this.#ref = { entity: config.name, table: config.table, fields: metas };
    this.#parse = rowParser<RowOf<Fs>>(metas);
    const parse = this.#parse;
    this.#parseFound = (raw) => (raw === undefined ? null : parse(raw));
    this.#insertSchema = z.strictObject(insertShape) as z.ZodType<AnyRow>;
    this.#updateSchema = z.strictObject(updateShape) as z.ZodType<AnyRow>;
    this.#routingFields =
      this.#affinity.kind === "colocate" ? ["id", this.#affinity.field] : ["id"];
    this.#inverses = config.inverses ?? [];
    this.#unique = config.unique ?? [];
    this.#triggers = config.triggers ?? {};
    this.#globalCache =
      config.cache === undefined
        ? undefined
        : new GlobalCache(config.cache.maxAgeMs, config.cache.max ?? ENT_DEFAULTS.globalCacheMax);
  }

  /** Where rows live: `global`, `random` or `colocate`. */
  get affinity(): Affinity["kind"] {
    return this.#affinity.kind;
  }

  // ---------------------------------------------------------------- loads

  /** The row with this ID. @throws EntNotFoundError, EntNotReadableError, InvalidIdError */
  load(vc: Viewer, id: string): Promise<RowOf<Fs>> {
    const cache = vc.cacheOf(this.name);
    const pending = this.#loadById(vc, id, cache);
    // Inline functions, not named ones: tsx (development, the bench) would name each one per call.
    return pending.then(
      (row) => {
        if (row === null) throw new EntNotFoundError(this.name, String(id));
        return vc.isOmni ? row : (this.#readableOrThrow(vc, row) as RowOf<Fs> | Promise<RowOf<Fs>>);
      },
      (error: unknown) => forgetFailed(cache, id, pending, error),
    );
  }

  /** The row with this ID, or null when there is none. @throws EntNotReadableError, InvalidIdError */
  loadNullable(vc: Viewer, id: string): Promise<RowOf<Fs> | null> {
    const cache = vc.cacheOf(this.name);
    const pending = this.#loadById(vc, id, cache);
    return pending.then(
      vc.isOmni ? undefined : (row) => this.#readableOrThrow(vc, row),
      (error: unknown) => forgetFailed(cache, id, pending, error),
    );
  }

  /**
   * The hot path of every app: the viewer's cached or pending load, else a batched load and one
   * continuation that parses the row; the caller's continuation (`load`, `loadNullable`) applies the
   * read rules and drops a failed load from the cache, so that the next load tries again. No async
   * frames and no closures of its own: an async frame costs several times a continuation, in time and
   * in garbage (measured in bench/ent-loads).
   */
  #loadById(vc: Viewer, id: string, cache: ViewerCache | undefined): Promise<RowOf<Fs> | null> {
    // The ID itself is the key (no string built per load); unique-key entries start with "by:".
    let pending = cache?.get(id) as Promise<RowOf<Fs> | null> | undefined;
    if (pending === undefined) {
      try {
        pending = this.#fetchById(vc, id);
      } catch (error) {
        return Promise.reject(error); // a malformed ID: nothing sent, nothing cached
      }
      cache?.add(id, pending);
    }
    return pending;
  }

  /**
   * The row with this unique key's values, or null. Visits one microshard when the key says which
   * (global entities, keys that include the colocation field, the key of a keyed `random` entity);
   * otherwise every microshard, in one statement per island for a single-column key.
   */
  async loadBy(vc: Viewer, key: UniqueKeyInput<Fs, U>): Promise<RowOf<Fs> | null> {
    const values = key as Readonly<AnyRow>;
    const fields = Object.keys(values).filter((k) => values[k] !== undefined);
    const unique = this.#unique.find(
      (u) => u.length === fields.length && u.every((f) => fields.includes(f)),
    );
    if (!unique) {
      throw new EntQueryError(
        this.name,
        `loadBy needs exactly the fields of a unique key (${this.#unique.map((u) => `[${u.join(", ")}]`).join(", ") || "none declared"})`,
      );
    }
    // Validates the values' types (throws EntQueryError) before anything is sent.
    compileWhere(this.name, this.#ref.fields, values, []);
    const cacheKey = `by:${unique.map((f) => keyPart(values[f])).join("\u0000")}`;
    const row = await this.#cached(vc, cacheKey, () => this.#fetchByUnique(vc, unique, values));
    return this.#readableOrThrow(vc, row);
  }

  // ---------------------------------------------------------------- writes

  /** Inserts a row; resolves with its ID, generated in the row's microshard. */
  async insert(vc: Viewer, input: InsertInput<Fs>): Promise<string> {
    const values = await this.#prepareInsert(vc, input);
    const microshard = await this.#placeInsert(vc.cluster, values);
    const shard = vc.cluster.shard(microshard);
    this.#invalidate(vc);
    const undo = await this.#writeInverses(vc, shard, values);
    let raw: AnyRow;
    try {
      raw = await shard.insert<AnyRow>(this.table, insertRecord(this.#ref.fields, values), {
        session: vc.session,
      });
    } catch (error) {
      await undo(error);
      throw error;
    } finally {
      this.#invalidate(vc);
    }
    const row = this.#parse(raw);
    for (const trigger of this.#triggers.afterInsert ?? []) await trigger(vc, row);
    return row.id;
  }

  /**
   * Inserts unless a row with the same unique key exists (any unique constraint of the table);
   * resolves with the new ID, or null when nothing was inserted.
   */
  async insertIfNotExists(vc: Viewer, input: InsertInput<Fs>): Promise<string | null> {
    const values = await this.#prepareInsert(vc, input);
    const microshard = await this.#placeInsert(vc.cluster, values);
    const shard = vc.cluster.shard(microshard);
    this.#invalidate(vc);
    const undo = await this.#writeInverses(vc, shard, values);
    let raw: AnyRow | undefined;
    try {
      const stmt = insertStatement(this.#ref, microshard, values, { kind: "nothing" });
      [raw] = await shard.query<AnyRow>(stmt.sql, stmt.params, {
        write: true,
        session: vc.session,
      });
    } catch (error) {
      await undo(error);
      throw error;
    } finally {
      this.#invalidate(vc);
    }
    if (raw === undefined) {
      await undo(undefined); // known: nothing was inserted, so the fresh inverse points nowhere
      return null;
    }
    const row = this.#parse(raw);
    for (const trigger of this.#triggers.afterInsert ?? []) await trigger(vc, row);
    return row.id;
  }

  /**
   * Inserts, or overwrites the given fields of the row with the same unique key (the first declared,
   * or `options.key`); resolves with the row's ID. Safe to repeat. Not available for entities with
   * triggers or inverses: which of insert or update happens is known only after the statement ran.
   */
  async upsert(
    vc: Viewer,
    input: InsertInput<Fs>,
    options: { readonly key?: U[number] } = {},
  ): Promise<string> {
    if (this.#inverses.length > 0 || Object.keys(this.#triggers).length > 0) {
      throw new EntQueryError(
        this.name,
        "upsert is not available for an entity with triggers or inverses; use loadBy + update/insert",
      );
    }
    const key = (options.key ?? this.#unique[0]) as readonly string[] | undefined;
    if (!key) throw new EntQueryError(this.name, "upsert needs a unique key; none is declared");
    const values = await this.#prepareInsert(vc, input);
    for (const f of key) {
      if (values[f] === undefined || values[f] === null) {
        throw new EntQueryError(this.name, `upsert needs the key field ${f}`);
      }
    }
    const microshard = await this.#placeInsert(vc.cluster, values);
    const stmt = insertStatement(this.#ref, microshard, values, { kind: "update", key });
    this.#invalidate(vc);
    try {
      const [raw] = await vc.cluster.shard(microshard).query<AnyRow>(stmt.sql, stmt.params, {
        write: true,
        idempotent: true,
        session: vc.session,
      });
      if (!raw) throw new Error(`upsert of ${this.name} returned no row`);
      return String(raw.id);
    } finally {
      this.#invalidate(vc);
    }
  }

  /**
   * Changes the given fields of a row. With `expect`, only if the row still matches it (optimistic
   * locking). Resolves false when the row does not exist or no longer matches; nothing is written.
   */
  async update(
    vc: Viewer,
    id: string,
    input: UpdateInput<Fs, AffinityFields<S>>,
    options: { readonly expect?: Where<RowOf<Fs>> } = {},
  ): Promise<boolean> {
    let changes = this.#validate(this.#updateSchema, input);
    const shard = this.#shardOfId(vc.cluster, id);
    if (!shard) return false;
    const old = await this.#fetchFresh(vc, shard, id);
    if (!old) return false;
    for (const trigger of this.#triggers.beforeUpdate ?? []) {
      const patch = await trigger(vc, {
        old,
        changes: changes as UpdateInput<Fs, AffinityFields<S>>,
        changed: this.#changedFields(old, changes),
      });
      if (patch) changes = this.#validate(this.#updateSchema, { ...changes, ...patch });
    }
    await this.#assertWritable(vc, "update", id, old as WriteRow<Fs>);
    await this.#assertWritable(vc, "update", id, { ...old, ...changes } as WriteRow<Fs>);

    // New inverse rows first; old ones are removed only once the update is known to be applied.
    const added: [string, string][] = [];
    const removed: [string, string][] = [];
    for (const field of this.#inverses) {
      const next = changes[field];
      const previous = (old as AnyRow)[field];
      if (next === undefined || next === previous) continue;
      if (typeof next === "string") added.push([field, next]);
      if (typeof previous === "string") removed.push([field, previous]);
    }
    for (const [field, id1] of added) await addInverse(this.#inverseRef(vc, field), id1, id);

    const stmt = updateStatement(
      this.#ref,
      shard.microshard,
      id,
      changes,
      options.expect as AnyWhere | undefined,
    );
    this.#invalidate(vc);
    let raw: AnyRow | undefined;
    try {
      [raw] = await shard.query<AnyRow>(stmt.sql, stmt.params, {
        write: true,
        // Setting the same values twice changes nothing, so a lost connection may be retried; with
        // `expect`, a retry of an applied update would no longer match and wrongly report a conflict.
        idempotent: options.expect === undefined,
        session: vc.session,
      });
    } catch (error) {
      await this.#undoInverses(vc, added, id, error);
      throw error;
    } finally {
      this.#invalidate(vc);
    }
    if (raw === undefined) {
      await this.#undoInverses(vc, added, id, undefined);
      return false;
    }
    await this.#removeInverses(vc, removed, id);
    const row = this.#parse(raw);
    const changed = this.#changedFields(old, row as AnyRow);
    for (const trigger of this.#triggers.afterUpdate ?? [])
      await trigger(vc, { old, row, changed });
    return true;
  }

  /** Deletes a row; resolves false when it did not exist. */
  async delete(vc: Viewer, id: string): Promise<boolean> {
    const shard = this.#shardOfId(vc.cluster, id);
    if (!shard) return false;
    const old = await this.#fetchFresh(vc, shard, id);
    if (!old) return false;
    await this.#assertWritable(vc, "delete", id, old as WriteRow<Fs>);
    for (const trigger of this.#triggers.beforeDelete ?? []) await trigger(vc, old);
    const stmt = deleteStatement(this.#ref, shard.microshard, id);
    this.#invalidate(vc);
    let rows: AnyRow[];
    try {
      rows = await shard.query<AnyRow>(stmt.sql, stmt.params, {
        write: true,
        idempotent: true,
        session: vc.session,
      });
    } finally {
      this.#invalidate(vc);
    }
    const [raw] = rows;
    if (!raw) return false;
    const row = this.#parse(raw);
    await this.#removeInverses(
      vc,
      this.#inverses
        .map((f) => [f, (row as AnyRow)[f]] as [string, unknown])
        .filter((p): p is [string, string] => typeof p[1] === "string"),
      id,
    );
    for (const trigger of this.#triggers.afterDelete ?? []) await trigger(vc, row);
    return true;
  }

  // ---------------------------------------------------------------- queries

  /**
   * Rows matching `where`, readable by the viewer, in `order`, at most `limit`. The where must pin the
   * microshards: `id`, the colocation field or an inverse field (equality or `in`), or the entity is
   * global. Anything else is a cross-microshard query: use `selectAcross`.
   */
  async select(vc: Viewer, options: SelectOptions<RowOf<Fs>>): Promise<RowOf<Fs>[]> {
    const limit = checkLimit(this.name, options.limit);
    const order = this.#order(options.order as readonly AnyOrderBy[] | undefined);
    const microshards = await this.#route(vc, options.where as AnyWhere, "select");
    const rows = await this.#selectIn(vc, microshards, options.where as AnyWhere, order, limit);
    return this.#readable(vc, rows);
  }

  /**
   * An explicit fan-out: the first `limit` rows in `order` over every microshard (or the given
   * ones), each microshard asked for its own first `limit` and the pages merged here. For admin and
   * reporting paths; a request path should pin its microshards.
   */
  async selectAcross(vc: Viewer, options: SelectAcrossOptions<RowOf<Fs>>): Promise<RowOf<Fs>[]> {
    const limit = checkLimit(this.name, options.limit);
    const order = this.#order(options.order as readonly AnyOrderBy[] | undefined);
    const microshards = options.microshards ?? (await this.#allMicroshards(vc.cluster));
    const rows = await this.#selectIn(vc, microshards, options.where as AnyWhere, order, limit);
    return this.#readable(vc, rows);
  }

  /**
   * The number of matching rows. For the omni viewer a `count(*)`; for any other viewer only the rows
   * it may read are counted (they are read and checked, up to `ENT_DEFAULTS.countPrivacyLimit`), so a
   * count never reveals how many rows another tenant has.
   */
  async count(vc: Viewer, where: Where<RowOf<Fs>>): Promise<number> {
    const microshards = await this.#route(vc, where as AnyWhere, "count");
    if (vc.isOmni) {
      const counts = await runLimited(microshards, ENT_DEFAULTS.fanOutConcurrency, async (m) => {
        const [row] = await this.#run(vc, m, countStatement(this.#ref, m, where as AnyWhere));
        return Number(row?.n ?? 0);
      });
      return counts.reduce((a, b) => a + b, 0);
    }
    const cap = ENT_DEFAULTS.countPrivacyLimit;
    const rows = await this.#selectIn(vc, microshards, where as AnyWhere, this.#order(), cap + 1);
    if (rows.length > cap) {
      throw new EntQueryError(
        this.name,
        `count for a non-omni viewer checks each row's read rules and stops at ${cap} rows; narrow the where`,
      );
    }
    return (await this.#readable(vc, rows)).length;
  }

  /** Whether any row matching `where` is readable by the viewer. */
  async exists(vc: Viewer, where: Where<RowOf<Fs>>): Promise<boolean> {
    for await (const chunk of this.iterate(vc, { where, chunk: vc.isOmni ? 1 : 100 })) {
      if (chunk.length > 0) return true;
    }
    return false;
  }

  /**
   * Every matching row, in chunks, by ID ascending (microshard by microshard, since an ID starts with
   * its microshard). Resumable: pass the last ID seen as `after`. Rows the viewer cannot read are left
   * out of their chunk; empty chunks are not yielded.
   */
  async *iterate(vc: Viewer, options: IterateOptions<RowOf<Fs>>): AsyncGenerator<RowOf<Fs>[]> {
    const chunk = checkLimit(this.name, options.chunk ?? ENT_DEFAULTS.iterateChunk);
    const where = options.where as AnyWhere;
    let microshards: readonly number[];
    try {
      microshards = await this.#route(vc, where, "iterate");
    } catch (error) {
      if (!(error instanceof EntQueryError && options.across)) throw error;
      microshards = await this.#allMicroshards(vc.cluster);
    }
    let after = options.after;
    const from = after === undefined ? -1 : vc.cluster.microshardOf(after);
    const order: OrderKey[] = [{ field: "id", direction: "asc" }];
    for (const m of [...microshards].sort((a, b) => a - b)) {
      if (m < from) continue;
      for (;;) {
        const stmt = selectStatement(this.#ref, m, {
          where,
          order,
          limit: chunk,
          ...(after === undefined ? {} : { afterId: after }),
        });
        const rows = (await this.#run(vc, m, stmt)).map(this.#parse);
        if (rows.length === 0) break;
        after = (rows[rows.length - 1] as RowOf<Fs>).id;
        const readable = await this.#readable(vc, rows);
        if (readable.length > 0) yield readable;
        if (rows.length < chunk) break;
      }
    }
  }

  // ---------------------------------------------------------------- internals

  #cached(
    vc: Viewer,
    key: string,
    fetch: () => Promise<RowOf<Fs> | null>,
  ): Promise<RowOf<Fs> | null> {
    const cache = vc.cacheOf(this.name);
    if (!cache) return fetch();
    const hit = cache.get(key) as Promise<RowOf<Fs> | null> | undefined;
    if (hit) return hit;
    const pending = fetch();
    cache.add(key, pending);
    pending.catch(() => {
      if (cache.peek(key) === pending) cache.delete(key);
    });
    return pending;
  }

  /** Loads by ID: the row or null. @throws InvalidIdError, synchronously */
  #fetchById(vc: Viewer, id: string): Promise<RowOf<Fs> | null> {
    const shard = this.#shardOfId(vc.cluster, id);
    if (!shard) return NO_ROW;
    if (this.#globalCache) return this.#fetchGlobalCached(vc, shard, id);
    return shard.load<AnyRow>(this.table, "id", id, readOptions(vc)).then(this.#parseFound);
  }

  /** `#fetchById` of an entity with a process cache: only found rows are cached. */
  #fetchGlobalCached(vc: Viewer, shard: Shard, id: string): Promise<RowOf<Fs> | null> {
    const globalCache = this.#globalCache as GlobalCache<RowOf<Fs>>;
    const cluster = vc.cluster;
    const cached = globalCache.get(cluster, id);
    if (cached) return Promise.resolve(cached);
    return shard.load<AnyRow>(this.table, "id", id, readOptions(vc)).then((raw) => {
      if (raw === undefined) return null;
      const row = this.#parse(raw);
      globalCache.set(cluster, id, row);
      return row;
    });
  }

  /** The row as the master has it now: for writes, which decide on the latest state. */
  async #fetchFresh(vc: Viewer, shard: Shard, id: string): Promise<RowOf<Fs> | null> {
    const raw = await shard.load<AnyRow>(this.table, "id", id, {
      role: "master",
      session: vc.session,
    });
    return raw === undefined ? null : this.#parse(raw);
  }

  async #fetchByUnique(
    vc: Viewer,
    unique: readonly string[],
    values: Readonly<AnyRow>,
  ): Promise<RowOf<Fs> | null> {
    const cacheKey = `by:${unique.map((f) => keyPart(values[f])).join("\u0000")}`;
    const cached = this.#globalCache?.get(vc.cluster, cacheKey);
    if (cached) return cached;
    const affinity = this.#affinity;
    let first: readonly number[];
    let rest: () => Promise<readonly number[]> = async () => [];
    if (affinity.kind === "global") {
      first = [GLOBAL_MICROSHARD];
    } else if (affinity.kind === "colocate" && unique.includes(affinity.field)) {
      first = [vc.cluster.microshardOf(values[affinity.field])];
    } else if (affinity.kind === "random" && affinity.key && sameFields(affinity.key, unique)) {
      const all = await this.#allMicroshards(vc.cluster);
      const home = placeByKey(
        affinity.key.map((f) => values[f]),
        all,
      );
      first = [home];
      // The key is placed by the microshards that existed at insert time; allocating more since may
      // have re-homed it, so a miss looks everywhere else before answering "no row".
      rest = async () => all.filter((m) => m !== home);
    } else {
      first = await this.#allMicroshards(vc.cluster);
    }
    const row =
      (await this.#lookupUnique(vc, first, unique, values)) ??
      (await this.#lookupUnique(vc, await rest(), unique, values));
    if (row) this.#globalCache?.set(vc.cluster, cacheKey, row);
    return row;
  }

  async #lookupUnique(
    vc: Viewer,
    microshards: readonly number[],
    unique: readonly string[],
    values: Readonly<AnyRow>,
  ): Promise<RowOf<Fs> | null> {
    if (microshards.length === 0) return null;
    if (unique.length === 1) {
      // Batched by the client: one statement per island, however many microshards.
      const meta = this.#ref.fields.get(unique[0] as string) as FieldMeta;
      const value = toDb(meta.kind, values[meta.field]);
      const found = await Promise.all(
        microshards.map((m) =>
          vc.cluster
            .shard(m)
            .load<AnyRow>(this.table, meta.column, value, { session: readSession(vc) }),
        ),
      );
      const raw = found.find((r) => r !== undefined);
      return raw === undefined ? null : this.#parse(raw);
    }
    const found = await runLimited(microshards, ENT_DEFAULTS.fanOutConcurrency, async (m) => {
      const [raw] = await this.#run(vc, m, uniqueKeyStatement(this.#ref, m, values));
      return raw;
    });
    const raw = found.find((r) => r !== undefined);
    return raw === undefined ? null : this.#parse(raw);
  }

  /** The shard of an ID, or undefined when the ID cannot be one of this entity's. */
  #shardOfId(cluster: Cluster, id: string): Shard | undefined {
    const shard = cluster.shardOf(id); // InvalidIdError for a malformed ID
    if (this.#affinity.kind === "global" && shard.microshard !== GLOBAL_MICROSHARD)
      return undefined;
    if (this.#affinity.kind === "random" && shard.microshard === GLOBAL_MICROSHARD)
      return undefined;
    return shard;
  }

  async #prepareInsert(vc: Viewer, input: InsertInput<Fs>): Promise<AnyRow> {
    let values = this.#validate(this.#insertSchema, input);
    for (const trigger of this.#triggers.beforeInsert ?? []) {
      const patch = await trigger(vc, values as InsertInput<Fs>);
      if (patch) values = this.#validate(this.#insertSchema, { ...values, ...patch });
    }
    await this.#assertWritable(vc, "insert", undefined, values as WriteRow<Fs>);
    return values;
  }

  async #placeInsert(cluster: Cluster, values: Readonly<AnyRow>): Promise<number> {
    const affinity = this.#affinity;
    switch (affinity.kind) {
      case "global":
        return GLOBAL_MICROSHARD;
      case "colocate":
        return cluster.microshardOf(values[affinity.field]);
      case "random": {
        const all = await this.#allMicroshards(cluster);
        if (affinity.key)
          return placeByKey(
            affinity.key.map((f) => values[f]),
            all,
          );
        return all[Math.floor(Math.random() * all.length)] as number;
      }
    }
  }

  async #allMicroshards(cluster: Cluster): Promise<readonly number[]> {
    if (this.#affinity.kind === "global") return [GLOBAL_MICROSHARD];
    const all = await knownMicroshards(cluster);
    if (all.length === 0) {
      throw new EntQueryError(this.name, "the cluster has no microshards besides shard 0");
    }
    return all;
  }

  /**
   * For an entity with inverses: takes an ID from the target microshard's generator (the inverse row
   * needs it before the row exists), writes the inverse rows, and returns how to undo them if the
   * insert is then known to have failed.
   */
  async #writeInverses(
    vc: Viewer,
    shard: Shard,
    values: AnyRow,
  ): Promise<(error: unknown) => Promise<void>> {
    const pairs = this.#inverses
      .map((f) => [f, values[f]] as [string, unknown])
      .filter((p): p is [string, string] => typeof p[1] === "string");
    if (pairs.length === 0) return async () => {};
    const [generated] = await shard.query<{ id: string }>(
      `SELECT ${microshardSchema(shard.microshard)}.archipelago_next_id()::text AS id`,
      [],
      { write: true, idempotent: true, session: vc.session },
    );
    const id = generated?.id as string;
    values.id = id;
    const done: [string, string][] = [];
    try {
      for (const [field, id1] of pairs) {
        await addFreshInverse(this.#inverseRef(vc, field), id1, id);
        done.push([field, id1]);
      }
    } catch (error) {
      await this.#undoInverses(vc, done, id, error);
      throw error;
    }
    return (error) => this.#undoInverses(vc, pairs, id, error);
  }

  /** Removes fresh inverse rows after a write that is known not to have happened. */
  async #undoInverses(
    vc: Viewer,
    pairs: readonly [string, string][],
    id2: string,
    error: unknown,
  ): Promise<void> {
    // An unknown outcome may have written the row: keep its inverse (a stale one is harmless).
    if (error instanceof OutcomeUnknownError) return;
    await this.#removeInverses(vc, pairs, id2);
  }

  async #removeInverses(
    vc: Viewer,
    pairs: readonly [string, string][],
    id2: string,
  ): Promise<void> {
    for (const [field, id1] of pairs) {
      // Best effort: a stale inverse only costs a visit to a microshard with no match.
      await removeInverse(this.#inverseRef(vc, field), id1, id2).catch(() => {});
    }
  }

  #inverseRef(vc: Viewer, field: string): InverseRef {
    return { cluster: vc.cluster, session: vc.session, type: `${this.name}.${field}` };
  }

  /** The microshards a where pins, or an EntQueryError naming the way out. */
  async #route(vc: Viewer, where: AnyWhere, what: string): Promise<readonly number[]> {
    if (typeof where !== "object" || where === null) {
      throw new EntQueryError(this.name, "where must be an object");
    }
    if (this.#affinity.kind === "global") return [GLOBAL_MICROSHARD];
    const ids = pinnedIds(where, this.#routingFields);
    if (ids) return unique(ids.map((id) => vc.cluster.microshardOf(id)));
    for (const field of this.#inverses) {
      const ids1 = pinnedIds(where, [field]);
      if (!ids1) continue;
      for (const id of ids1) vc.cluster.microshardOf(id); // InvalidIdError before any SQL
      const ids2 = await findInverse(this.#inverseRef(vc, field), ids1);
      return unique(ids2.map((id) => vc.cluster.microshardOf(id)));
    }
    const pins = [...this.#routingFields, ...this.#inverses].join(", ");
    throw new EntQueryError(
      this.name,
      `${what} must pin its microshards with ${pins} (equality or in); for a query over every microshard use selectAcross`,
    );
  }

  async #selectIn(
    vc: Viewer,
    microshards: readonly number[],
    where: AnyWhere,
    order: readonly OrderKey[],
    limit: number,
  ): Promise<RowOf<Fs>[]> {
    if (microshards.length === 0) return [];
    if (microshards.length === 1) {
      const m = microshards[0] as number;
      const rows = await this.#run(vc, m, selectStatement(this.#ref, m, { where, order, limit }));
      return rows.map(this.#parse);
    }
    const pages = await runLimited(microshards, ENT_DEFAULTS.fanOutConcurrency, async (m) => {
      const stmt = selectStatement(this.#ref, m, { where, order, limit, bytewiseText: true });
      return (await this.#run(vc, m, stmt)).map(this.#parse);
    });
    return mergeOrdered(pages as AnyRow[][], order, limit) as RowOf<Fs>[];
  }

  #run(vc: Viewer, microshard: number, stmt: Statement): Promise<AnyRow[]> {
    return vc.cluster
      .shard(microshard)
      .query<AnyRow>(stmt.sql, stmt.params, { session: readSession(vc) });
  }

  #order(order: readonly AnyOrderBy[] | undefined = []): OrderKey[] {
    const keys: OrderKey[] = order.map((o) =>
      typeof o === "string" ? { field: o, direction: "asc" } : { field: o[0], direction: o[1] },
    );
    for (const key of keys) {
      const meta = this.#ref.fields.get(key.field);
      if (!meta) throw new EntQueryError(this.name, `cannot order by unknown field ${key.field}`);
      if (meta.kind === "json" || meta.kind === "boolean") {
        throw new EntQueryError(this.name, `cannot order by ${key.field} (${meta.kind})`);
      }
      if (key.direction !== "asc" && key.direction !== "desc") {
        throw new EntQueryError(this.name, `order direction must be "asc" or "desc"`);
      }
    }
    // IDs are unique: a last key of id makes every order total, so pages and merges are stable.
    if (!keys.some((k) => k.field === "id")) keys.push({ field: "id", direction: "asc" });
    return keys;
  }

  async #readable(vc: Viewer, rows: RowOf<Fs>[]): Promise<RowOf<Fs>[]> {
    if (vc.isOmni || rows.length === 0) return rows;
    const rules = this.#config.privacy.read;
    const decisions = await Promise.all(rows.map((row) => evaluateRead(rules, vc, row)));
    return rows.filter((_, i) => decisions[i]?.allowed);
  }

  /** The row if the viewer may read it; EntNotReadableError otherwise. Sync for sync rules. */
  #readableOrThrow(
    vc: Viewer,
    row: RowOf<Fs> | null,
  ): RowOf<Fs> | null | Promise<RowOf<Fs> | null> {
    if (row === null) return null;
    const decision = evaluateRead(this.#config.privacy.read, vc, row);
    return decision instanceof Promise
      ? decision.then((d) => this.#allowedOrThrow(vc, row, d))
      : this.#allowedOrThrow(vc, row, decision);
  }

  #allowedOrThrow(vc: Viewer, row: RowOf<Fs>, decision: Decision): RowOf<Fs> {
    if (!decision.allowed) {
      throw new EntNotReadableError(this.name, row.id, vc.principal, decision.reason);
    }
    return row;
  }

  async #assertWritable(
    vc: Viewer,
    operation: "insert" | "update" | "delete",
    id: string | undefined,
    row: WriteRow<Fs>,
  ): Promise<void> {
    const decision = await evaluateWrite(this.#config.privacy.write ?? [], vc, row);
    if (!decision.allowed) {
      throw new EntNotWritableError(this.name, operation, id, vc.principal, decision.reason);
    }
  }

  #validate(schema: z.ZodType<AnyRow>, input: unknown): AnyRow {
    const result = schema.safeParse(input);
    if (result.success) return { ...result.data };
    throw new EntValidationError(
      this.name,
      result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }

  #changedFields(old: RowOf<Fs>, next: Readonly<AnyRow>): (keyof Fs & string)[] {
    const changed: (keyof Fs & string)[] = [];
    for (const field of Object.keys(this.#config.fields)) {
      if (!(field in next) || next[field] === undefined) continue;
      if (!sameValue((old as AnyRow)[field], next[field])) changed.push(field);
    }
    return changed;
  }

  #invalidate(vc: Viewer): void {
    vc.invalidate(this.name);
    this.#globalCache?.clear(vc.cluster);
  }
}

/**
 * The session a read passes to the client. A session with no writes asks nothing of replicas, so it is
 * left out: the client then batches the loads of every such viewer in a tick together, and skips the
 * per-session bookkeeping (measured in bench/ent-loads.bench.ts).
 */
function readSession(vc: Viewer): Session | undefined {
  return vc.session.size > 0 ? vc.session : undefined;
}

/** Drops a failed load from the viewer's cache (unless a newer load replaced it), and fails. */
function forgetFailed(
  cache: ViewerCache | undefined,
  key: string,
  pending: Promise<unknown>,
  error: unknown,
): never {
  if (cache !== undefined && cache.peek(key) === pending) cache.delete(key);
  throw error;
}

/** No session to pass: one shared options object rather than one per load. */
const NO_SESSION: { readonly session?: Session } = Object.freeze({});

/** The client's load options for a read (`readSession`). */
function readOptions(vc: Viewer): { readonly session?: Session } {
  return vc.session.size > 0 ? { session: vc.session } : NO_SESSION;
}

/** The load of an ID that cannot be this entity's: settled once, shared. */
const NO_ROW: Promise<null> = Promise.resolve(null);

function checkLimit(entity: string, limit: unknown): number {
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    throw new EntQueryError(entity, "limit must be a positive integer");
  }
  return limit;
}

function unique(values: readonly number[]): number[] {
  return [...new Set(values)];
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}

function keyPart(value: unknown): string {
  if (value instanceof Date) return `d${value.toISOString()}`;
  if (typeof value === "bigint") return `n${value}`;
  return `${typeof value}:${String(value)}`;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
}
