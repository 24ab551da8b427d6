import { join } from "node:path";
import { type LocalCluster, startLocalCluster } from "@archipelago/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acquireMigrationLock,
  allocateMicroshards,
  IslandMasters,
  installCatalog,
  loadMigrations,
  type Migration,
  MigrationLockBusyError,
  MigrationsFailedError,
  parseMigration,
  readCatalogs,
  runMigrations,
} from "../src/index.js";

const exampleMigrations = loadMigrations(join(import.meta.dirname, "../../../examples/migrations"));
let cluster: LocalCluster;
let masters: IslandMasters;

beforeAll(async () => {
  cluster = await startLocalCluster({ islands: 2, replicasPerIsland: 1 });
  masters = new IslandMasters(cluster.config);
  await installCatalog(masters);
  // Allocated before the migrations exist, so that the runner has every schema to migrate.
  await allocateMicroshards(masters, { numbers: [0], migrations: [] });
  await allocateMicroshards(masters, { count: 6, migrations: [] });
});

afterAll(async () => {
  await masters?.end();
  await cluster?.stop();
});

async function appliedVersions(): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const row of await readCatalogs(masters)) {
    const versions = await cluster
      .master(row.island)
      .query<{ version: string }>(
        `SELECT version FROM ${row.schemaName}.archipelago_migrations ORDER BY version`,
      );
    result.set(
      row.schemaName,
      versions.map((v) => v.version),
    );
  }
  return result;
}

describe("migration runner", () => {
  it("applies each migration to its targets on every island, recording the version in the schema", async () => {
    const events: string[] = [];
    const report = await runMigrations(masters, {
      migrations: exampleMigrations,
      onProgress: (e) => events.push(e.kind),
    });
    expect(report.failures).toEqual([]);
    expect(report.schemas).toBe(7);
    // shard 0: 0001 (global) + 0004 (all); six microshards: 0002, 0003, 0004 each.
    expect(report.applied).toBe(2 + 6 * 3);
    const versions = await appliedVersions();
    expect(versions.get("sh0000")).toEqual(["0001", "0004"]);
    for (const [schema, applied] of versions) {
      if (schema !== "sh0000") expect(applied).toEqual(["0002", "0003", "0004"]);
    }
    expect(events[0]).toBe("start");
    expect(events.filter((e) => e === "schema")).toHaveLength(7);
    // The tables really exist where they should, and the ID default works inside them.
    const island = (await readCatalogs(masters)).find((r) => r.microshard === 3)?.island ?? 0;
    const [user] = await cluster
      .master(island)
      .query<{ id: string }>(
        "INSERT INTO sh0003.users (workspace_id, email, name) VALUES (1, 'a@x', 'A') RETURNING id::text",
      );
    expect(user?.id.slice(1, 5)).toBe("0003");
  });

  it("is a no-op when run again", async () => {
    const before = await appliedVersions();
    const report = await runMigrations(masters, { migrations: exampleMigrations });
    expect(report.applied).toBe(0);
    expect(await appliedVersions()).toEqual(before);
  });

  it("gives new microshards every migration at allocation", async () => {
    const { allocated } = await allocateMicroshards(masters, {
      count: 2,
      migrations: exampleMigrations,
    });
    const versions = await appliedVersions();
    for (const { microshard } of allocated) {
      expect(versions.get(`sh${String(microshard).padStart(4, "0")}`)).toEqual([
        "0002",
        "0003",
        "0004",
      ]);
    }
  });

  it("reports a failing migration with its schema and leaves every schema consistent", async () => {
    // Fails only where sh0002 lives: a table that one schema already has.
    const island = (await readCatalogs(masters)).find((r) => r.microshard === 2)?.island ?? 0;
    await cluster.master(island).query("CREATE TABLE sh0002.conflicting (x int)");
    const failing: Migration[] = [
      ...exampleMigrations,
      parseMigration(
        "0005_add_conflicting.sharded.sql",
        "CREATE TABLE conflicting (id bigint PRIMARY KEY);",
      ),
      parseMigration(
        "0006_after.sharded.sql",
        "CREATE TABLE after_conflict (id bigint PRIMARY KEY);",
      ),
    ];
    const error = await runMigrations(masters, { migrations: failing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationsFailedError);
    const failures = (error as MigrationsFailedError).failures;
    expect(failures).toEqual([
      expect.objectContaining({ island, schema: "sh0002", version: "0005", sqlstate: "42P07" }),
    ]);
    expect((error as Error).message).toContain("sh0002");
    const versions = await appliedVersions();
    expect(versions.get("sh0002")).toEqual(["0002", "0003", "0004"]);
    for (const [schema, applied] of versions) {
      if (schema === "sh0000" || schema === "sh0002") continue;
      expect(applied).toEqual(["0002", "0003", "0004", "0005", "0006"]);
    }
    // After the fix, a re-run finishes the failed schema only.
    await cluster.master(island).query("DROP TABLE sh0002.conflicting");
    const fixed = await runMigrations(masters, { migrations: failing });
    expect(fixed.applied).toBe(2);
  });

  it("refuses an applied migration whose file was edited", async () => {
    const edited = exampleMigrations.map((m) =>
      m.version === "0003" ? parseMigration(m.file, `${m.sql}\n-- edited`) : m,
    );
    await expect(runMigrations(masters, { migrations: edited })).rejects.toMatchObject({
      failures: expect.arrayContaining([expect.objectContaining({ version: "0003" })]),
    });
  });

  it("waits for the migrations lock that moves hold, and gives up with a typed error", async () => {
    const mover = await (await masters.pool(2)).connect();
    try {
      await acquireMigrationLock(mover, 2, "shared", 1_000);
      const error = await runMigrations(masters, {
        migrations: exampleMigrations,
        lockWaitMs: 300,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationLockBusyError);
      expect(error).toMatchObject({ island: 2 });
    } finally {
      mover.release(true);
    }
    // Released: the runner proceeds.
    await expect(
      runMigrations(masters, { migrations: exampleMigrations, lockWaitMs: 5_000 }),
    ).resolves.toBeDefined();
  });
});
