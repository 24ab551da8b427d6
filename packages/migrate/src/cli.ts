#!/usr/bin/env node
/**
 * archipelago-migrate: install the catalog, allocate microshards and apply migrations from the shell.
 *
 * The cluster config comes from a JSON file (`--config` or ARCHIPELAGO_CONFIG), never from argv, so no
 * password shows in a process listing. Exit codes: 0 done, 1 failed, 2 usage error.
 */
import { readFileSync } from "node:fs";
import { ArchipelagoError, parseClusterConfig } from "@archipelago/topology";
import { Command, CommanderError } from "commander";
import { allocateMicroshards } from "./allocate-microshards.js";
import { installCatalog } from "./install-catalog.js";
import { IslandMasters } from "./island-masters.js";
import { loadMigrations } from "./migration-files.js";
import { migrationProgressReporter } from "./progress-reporter.js";
import { readCatalogs } from "./read-catalogs.js";
import { runMigrations } from "./run-migrations.js";

interface GlobalOptions {
  config?: string;
  json?: boolean;
}

const program = new Command("archipelago-migrate")
  .description(
    "Install the Archipelago catalog, allocate microshards and apply per-microshard migrations",
  )
  .option("-c, --config <file>", "cluster config JSON file (default: $ARCHIPELAGO_CONFIG)")
  .option("--json", "print one JSON document instead of text")
  .exitOverride();

program
  .command("install")
  .description("install or upgrade the catalog on every island master (idempotent)")
  .action(() =>
    withMasters(async (masters, json) => {
      const results = await installCatalog(masters);
      print(json, results, () =>
        results.map(
          (r) =>
            `island ${r.island}: catalog v${r.fromVersion} → v${r.toVersion}${r.changed ? "" : " (already current)"}`,
        ),
      );
    }),
  );

program
  .command("allocate")
  .description("create new microshards on the least-loaded islands, with every migration applied")
  .option("-n, --count <n>", "how many new microshards", (v) => Number(v))
  .option("--numbers <list>", "exact numbers, comma-separated (0 = shard 0)", (v) =>
    v.split(",").map(Number),
  )
  .requiredOption("-d, --dir <folder>", "migrations folder")
  .action((options: { count?: number; numbers?: number[]; dir: string }) =>
    withMasters(async (masters, json) => {
      const result = await allocateMicroshards(masters, {
        migrations: loadMigrations(options.dir),
        ...(options.count === undefined ? {} : { count: options.count }),
        ...(options.numbers === undefined ? {} : { numbers: options.numbers }),
      });
      print(json, result, () => [
        ...result.allocated.map(
          (a) => `sh${String(a.microshard).padStart(4, "0")} → island ${a.island}`,
        ),
        `cluster map epoch ${result.clusterMap.epoch}`,
      ]);
    }),
  );

program
  .command("up")
  .description("apply pending migrations to shard 0 and every active microshard")
  .requiredOption("-d, --dir <folder>", "migrations folder")
  .option("--lock-wait <ms>", "how long to wait for running moves", (v) => Number(v), 30_000)
  .action((options: { dir: string; lockWait: number }) =>
    withMasters(async (masters, json) => {
      const progress = migrationProgressReporter();
      try {
        const report = await runMigrations(masters, {
          migrations: loadMigrations(options.dir),
          lockWaitMs: options.lockWait,
          onProgress: progress.onProgress,
        });
        progress.stop();
        print(json, report, () => [
          `${report.applied} version(s) applied over ${report.schemas} schemas`,
        ]);
      } finally {
        progress.stop();
      }
    }),
  );

program
  .command("status")
  .description("list every microshard with its island, state and generation")
  .action(() =>
    withMasters(async (masters, json) => {
      const rows = await readCatalogs(masters);
      print(json, rows, () =>
        rows.map(
          (r) =>
            `${r.schemaName.padEnd(8)} island ${r.island}  ${r.state.padEnd(9)} generation ${r.generation}`,
        ),
      );
    }),
  );

async function withMasters(
  work: (masters: IslandMasters, json: boolean) => Promise<void>,
): Promise<void> {
  const options = program.opts<GlobalOptions>();
  const path = options.config ?? process.env.ARCHIPELAGO_CONFIG;
  if (!path) {
    console.error("No cluster config: pass --config <file> or set ARCHIPELAGO_CONFIG.");
    process.exitCode = 2;
    return;
  }
  const masters = new IslandMasters(parseClusterConfig(JSON.parse(readFileSync(path, "utf8"))));
  try {
    await work(masters, options.json === true);
  } finally {
    await masters.end();
  }
}

function print(json: boolean, value: unknown, text: () => string[]): void {
  console.log(json ? JSON.stringify(value, null, 2) : text().join("\n"));
}

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const json = program.opts<GlobalOptions>().json === true;
    console.error(
      json && error instanceof ArchipelagoError
        ? JSON.stringify({ error: error.toJSON() })
        : `archipelago-migrate: ${(error as Error).message}`,
    );
    process.exitCode = 1;
  }
}
