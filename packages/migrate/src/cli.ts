#!/usr/bin/env node
/**
 * archipelago-migrate: install the catalog, allocate microshards and apply migrations from the shell.
 *
 * The cluster config comes from a JSON file (`--config` or ARCHIPELAGO_CONFIG), never from argv, so no
 * password shows in a process listing. Exit codes: 0 done, 1 failed on the cluster, 2 usage or config
 * error.
 */
import { readFileSync } from "node:fs";
import {
  ArchipelagoError,
  InvalidConfigError,
  microshardSchema,
  parseClusterConfig,
} from "@archipelago/topology";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { allocateMicroshards } from "./allocate-microshards.js";
import { installCatalog } from "./install-catalog.js";
import { IslandMasters } from "./island-masters.js";
import { loadMigrations } from "./migration-files.js";
import { migrationProgressReporter } from "./progress-reporter.js";
import { publishClusterMap } from "./publish-cluster-map.js";
import { readCatalogs } from "./read-catalogs.js";
import { runMigrations } from "./run-migrations.js";

/** A mistake in how the command was called (exit code 2). */
class UsageError extends Error {}

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
  .addOption(
    new Option("-n, --count <n>", "how many new microshards")
      .argParser(positiveInteger)
      .conflicts("numbers"),
  )
  .addOption(
    new Option("--numbers <list>", "exact numbers, comma-separated (0 = shard 0)").argParser(
      numberList,
    ),
  )
  .requiredOption("-d, --dir <folder>", "migrations folder")
  .option(
    "--lock-wait <ms>",
    "how long to wait for a concurrent allocation",
    positiveInteger,
    30_000,
  )
  .action((options: { count?: number; numbers?: number[]; dir: string; lockWait: number }) =>
    withMasters(async (masters, json) => {
      if (options.count === undefined && options.numbers === undefined) {
        throw new UsageError("pass --count <n> or --numbers <list>");
      }
      const result = await allocateMicroshards(masters, {
        migrations: loadMigrations(options.dir),
        lockWaitMs: options.lockWait,
        ...(options.count === undefined ? {} : { count: options.count }),
        ...(options.numbers === undefined ? {} : { numbers: options.numbers }),
      });
      print(json, result, () => [
        ...result.allocated.map((a) => `${microshardSchema(a.microshard)} → island ${a.island}`),
        `cluster map epoch ${result.clusterMap.epoch}`,
      ]);
    }),
  );

program
  .command("publish")
  .description(
    "publish the cluster map (every island's catalog, under a new epoch) to every island",
  )
  .action(() =>
    withMasters(async (masters, json) => {
      const result = await publishClusterMap(masters);
      print(json, result, () => [
        `cluster map epoch ${result.epoch}: ${result.entries} entries, islands ${result.published.join(", ")}`,
      ]);
    }),
  );

program
  .command("up")
  .description("apply pending migrations to shard 0 and every active microshard")
  .requiredOption("-d, --dir <folder>", "migrations folder")
  .option("--lock-wait <ms>", "how long to wait for running moves", positiveInteger, 30_000)
  .option(
    "--ddl-lock-timeout <ms>",
    "how long one DDL statement may wait for a table lock",
    positiveInteger,
    5_000,
  )
  .action((options: { dir: string; lockWait: number; ddlLockTimeout: number }) =>
    withMasters(async (masters, json) => {
      const progress = migrationProgressReporter();
      try {
        const report = await runMigrations(masters, {
          migrations: loadMigrations(options.dir),
          lockWaitMs: options.lockWait,
          statementLockTimeoutMs: options.ddlLockTimeout,
          onProgress: progress.onProgress,
        });
        progress.stop();
        print(json, report, () => [
          `${report.applied} version(s) applied over ${report.schemas} schemas`,
          ...report.warnings.map((w) => `warning: ${w}`),
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
  if (!path)
    throw new UsageError("no cluster config: pass --config <file> or set ARCHIPELAGO_CONFIG");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new UsageError(`the config file ${path} is not valid JSON`);
  }
  const masters = new IslandMasters(parseClusterConfig(input));
  try {
    await work(masters, options.json === true);
  } finally {
    await masters.end();
  }
}

function print(json: boolean, value: unknown, text: () => string[]): void {
  console.log(json ? JSON.stringify(value, null, 2) : text().join("\n"));
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("expected a positive integer");
  return Number(value);
}

function numberList(value: string): number[] {
  const items = value.split(",").map((item) => item.trim());
  if (items.some((item) => !/^\d{1,4}$/.test(item))) {
    throw new InvalidArgumentError("expected comma-separated microshard numbers, e.g. 0,1,2");
  }
  return items.map(Number);
}

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    // A bad config or argument is the caller's mistake (2); anything on the cluster is a failure (1).
    process.exitCode = error instanceof InvalidConfigError || error instanceof UsageError ? 2 : 1;
    const json = program.opts<GlobalOptions>().json === true;
    const body =
      error instanceof ArchipelagoError
        ? error.toJSON()
        : { code: "ERROR", message: (error as Error).message };
    console.error(json ? JSON.stringify({ error: body }) : `archipelago-migrate: ${body.message}`);
  }
}
