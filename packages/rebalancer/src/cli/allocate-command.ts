/** `archipelago allocate`: new microshards on the least-loaded islands (as `archipelago-migrate allocate`). */
import { existsSync } from "node:fs";
import { allocateMicroshards, loadMigrations } from "@archipelago/migrate";
import { microshardSchema } from "@archipelago/topology";
import { type Command, Option } from "commander";
import { UsageError } from "./cli-errors.js";
import { integerAtLeast, numberList } from "./cli-options.js";
import { type CliIo, withCluster } from "./cli-session.js";

interface AllocateOptions {
  readonly count?: number;
  readonly numbers?: number[];
  readonly dir: string;
  readonly lockWait: number;
}

export function addAllocateCommand(program: Command, io: CliIo): void {
  program
    .command("allocate")
    .description(
      "create new microshards on the least-loaded islands, each with every migration applied, " +
        "and publish the cluster map",
    )
    .addOption(
      new Option("-n, --count <n>", "how many new microshards (the lowest free numbers)")
        .argParser(integerAtLeast(1, "--count"))
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
      "how long to wait for a concurrent allocation or migration",
      integerAtLeast(1, "--lock-wait"),
      30_000,
    )
    .action((options: AllocateOptions, command: Command) =>
      withCluster(io, command, async (session) => {
        if (options.count === undefined && options.numbers === undefined) {
          throw new UsageError("pass --count <n> or --numbers <list>");
        }
        if (!existsSync(options.dir)) {
          throw new UsageError(`the migrations folder ${options.dir} does not exist`);
        }
        const result = await allocateMicroshards(session.masters, {
          migrations: loadMigrations(options.dir),
          lockWaitMs: options.lockWait,
          ...(options.count === undefined ? {} : { count: options.count }),
          ...(options.numbers === undefined ? {} : { numbers: options.numbers }),
        });
        session.print(result, () =>
          [
            ...result.allocated.map(
              (a) => `${microshardSchema(a.microshard)} → island ${a.island}`,
            ),
            `cluster map epoch ${result.clusterMap.epoch}`,
          ].join("\n"),
        );
      }),
    );
}
