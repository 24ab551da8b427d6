/**
 * The migration runner: applies pending migrations to shard 0 and every active microshard on every
 * island master.
 *
 * One transaction per schema per version. A failing schema stops at the failing version (its later
 * versions would build on it) while every other schema goes on, and the run ends with a report naming
 * each failed schema, its version and PostgreSQL's reason. Re-running skips what is applied, so the fix
 * for a failure is: correct the migration, run again. Only `active` copies are migrated: a `receiving`
 * copy gets its versions from its source by the move (which the lock keeps from overlapping), and
 * `sent`/`garbage` copies are on their way out.
 */
import { GLOBAL_MICROSHARD } from "@archipelago/topology";
import type pg from "pg";
import type { IslandMasters } from "./island-masters.js";
import { type MigrationFailure, MigrationsFailedError } from "./migrate-errors.js";
import { migrateSchema, type SchemaMigrationResult, type SchemaTarget } from "./migrate-schema.js";
import type { Migration } from "./migration-files.js";
import { acquireMigrationLock, releaseMigrationLock } from "./migration-lock.js";

export type MigrationProgress =
  | { readonly kind: "start"; readonly schemas: number; readonly migrations: number }
  | {
      readonly kind: "schema";
      readonly result: SchemaMigrationResult;
      readonly done: number;
      readonly schemas: number;
    };

export interface RunMigrationsOptions {
  readonly migrations: readonly Migration[];
  /** How long to wait for the migrations lock on each island. @default 30000 */
  readonly lockWaitMs?: number;
  /** How long one DDL statement may wait for a table lock. @default 5000 */
  readonly statementLockTimeoutMs?: number;
  readonly onProgress?: (event: MigrationProgress) => void;
}

export interface MigrationReport {
  readonly schemas: number;
  /** Versions applied in this run, summed over schemas. */
  readonly applied: number;
  readonly failures: readonly MigrationFailure[];
  /** Things that did not fail but deserve a look (e.g. global migrations with no shard 0). */
  readonly warnings: readonly string[];
  readonly durationMs: number;
}

/**
 * Runs the migrations on the whole cluster.
 * @throws MigrationsFailedError (with the report's failures) when any schema failed.
 */
export async function runMigrations(
  masters: IslandMasters,
  options: RunMigrationsOptions,
): Promise<MigrationReport> {
  const started = performance.now();
  const islands = [...masters.islandNumbers].sort((a, b) => a - b);
  const clients = new Map<number, pg.PoolClient>();
  try {
    for (const island of islands) {
      const client = await (await masters.pool(island)).connect();
      clients.set(island, client);
      await acquireMigrationLock(client, island, "exclusive", options.lockWaitMs ?? 30_000);
    }
    const targets = new Map<number, SchemaTarget[]>();
    for (const [island, client] of clients)
      targets.set(island, await activeSchemas(client, island));
    const total = [...targets.values()].reduce((n, t) => n + t.length, 0);
    options.onProgress?.({ kind: "start", schemas: total, migrations: options.migrations.length });

    let done = 0;
    const results = await Promise.all(
      [...clients].map(async ([island, client]) => {
        const islandResults: SchemaMigrationResult[] = [];
        for (const target of targets.get(island) ?? []) {
          const result = await migrateSchema(client, target, options.migrations, {
            transactions: "per-version",
            ...(options.statementLockTimeoutMs === undefined
              ? {}
              : { lockTimeoutMs: options.statementLockTimeoutMs }),
          });
          islandResults.push(result);
          done++;
          options.onProgress?.({ kind: "schema", result, done, schemas: total });
        }
        return islandResults;
      }),
    );
    const flat = results.flat();
    const hasGlobal = options.migrations.some((m) => m.target !== "sharded");
    const warnings =
      hasGlobal && !flat.some((r) => r.target.microshard === GLOBAL_MICROSHARD)
        ? ["shard 0 (sh0000) is not allocated: global migrations were not applied anywhere"]
        : [];
    const report: MigrationReport = {
      warnings,
      schemas: flat.length,
      applied: flat.reduce((n, r) => n + r.applied.length, 0),
      failures: flat.flatMap((r) => (r.failure ? [r.failure] : [])),
      durationMs: performance.now() - started,
    };
    if (report.failures.length > 0) throw new MigrationsFailedError(report.failures);
    return report;
  } finally {
    for (const client of clients.values()) {
      // A session whose unlock failed may still hold the lock: destroy it rather than pool it.
      const unlocked = await releaseMigrationLock(client, "exclusive").then(
        () => true,
        () => false,
      );
      client.release(!unlocked);
    }
  }
}

async function activeSchemas(client: pg.ClientBase, island: number): Promise<SchemaTarget[]> {
  const { rows } = await client.query<{ microshard: number; schema_name: string }>(
    "SELECT microshard, schema_name FROM archipelago.microshards WHERE state = 'active' ORDER BY microshard",
  );
  return rows.map((r) => ({ island, microshard: r.microshard, schema: r.schema_name }));
}
