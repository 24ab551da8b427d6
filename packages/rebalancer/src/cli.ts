/**
 * `archipelago`: the shard manager from the shell.
 *
 *   archipelago status                                  islands, nodes and roles, microshards, imbalance
 *   archipelago allocate -n 4 -d migrations             new microshards on the least-loaded islands
 *   archipelago move 42 --to 2 [--verify]               move a microshard online
 *   archipelago plan | rebalance                        dry-run plan; a rebalance job run with progress
 *   archipelago drain <island> | undrain <island>       empty an island (and keep it empty) or lift that
 *   archipelago jobs list | show | stop | resume | delete   the persistent jobs
 *   archipelago manager [--mode automatic]              the shard manager role (leader election)
 *   archipelago start | stop --reason …                 the global switch every manager obeys
 *   archipelago cleanup [<job-id>] [--older-than ms]    drop retired copies and failed moves' leftovers
 *
 * The cluster config comes from a JSON file (`--config` or ARCHIPELAGO_CONFIG), never from argv, so no
 * password shows in a process listing. Results go to stdout (one JSON document with `--json`), progress
 * and messages to stderr. Exit codes are listed in cli/exit-codes.ts and in `--help`. `main` returns
 * the code rather than calling `process.exit`, so that output is flushed.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { addAllocateCommand } from "./cli/allocate-command.js";
import { addCleanupCommand } from "./cli/cleanup-command.js";
import { CliIo } from "./cli/cli-session.js";
import { addDrainCommands } from "./cli/drain-command.js";
import { EXIT_OK, EXIT_USAGE } from "./cli/exit-codes.js";
import { addJobsCommand } from "./cli/jobs-command.js";
import { addManagerCommands } from "./cli/manager-command.js";
import { addMoveCommand } from "./cli/move-command.js";
import { addRebalanceCommands } from "./cli/rebalance-command.js";
import { addStatusCommand } from "./cli/status-command.js";

const EXIT_CODES_HELP = `
Config: a JSON cluster config file from --config or $ARCHIPELAGO_CONFIG (keep it
chmod 600). Nodes the file gives no password use $PGPASSWORD. Passwords are
never taken from the command line.

Exit codes:
  0    done
  1    failed: a move aborted and was rolled back (the microshard stays on its
       source), an island did not answer, a cleanup left objects pending;
       running the command again is safe
  2    usage or config error (bad arguments, no or invalid config, unknown
       job); nothing was done
  3    refused by a pre-check (move, cleanup, allocation) or a conflicting
       job; nothing changed
  4    a move is stalled past its switch: the microshard is active nowhere
       until "archipelago jobs resume <id>" finishes it
  130  interrupted during a move; "archipelago jobs resume <id>" continues it`;

export async function main(
  argv: readonly string[] = process.argv,
  io = new CliIo(),
): Promise<number> {
  if (io.stdout === process.stdout) quietOnClosedPipe();
  const json = argv.includes("--json");
  const program = new Command("archipelago")
    .description(
      "Archipelago shard manager: status, allocation, online moves, rebalance and drain, jobs, the manager role",
    )
    .version(packageVersion(), "-V, --version")
    .option("-c, --config <file>", "cluster config JSON file (default: $ARCHIPELAGO_CONFIG)")
    .option("--json", 'print one JSON document on stdout (errors too: { "error": … })')
    .option("--no-progress", "no progress on stderr during a move")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXIT_CODES_HELP);
  addStatusCommand(program, io);
  addAllocateCommand(program, io);
  addMoveCommand(program, io);
  addRebalanceCommands(program, io);
  addDrainCommands(program, io);
  addJobsCommand(program, io);
  addManagerCommands(program, io);
  addCleanupCommand(program, io);

  try {
    await program.parseAsync([...argv]);
    return io.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; every other commander error is a usage error.
      if (error.exitCode === 0) return EXIT_OK;
      if (json) {
        io.out(
          JSON.stringify({ error: { code: "USAGE", name: "UsageError", message: error.message } }),
        );
      }
      return EXIT_USAGE;
    }
    io.fail(error, json);
    return io.exitCode;
  }
}

function packageVersion(): string {
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** `archipelago jobs list | head -1` closes stdout early: not an error worth a stack trace. */
function quietOnClosedPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? EXIT_OK);
  });
}
