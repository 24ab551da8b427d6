/**
 * `archipelago-local`: a persistent local cluster for development and demos.
 *
 *   archipelago-local up [--dir .archipelago/local] [--islands 2] [--replicas 1]
 *   archipelago-local status [--dir …] [--json]
 *   archipelago-local psql <island> [--node N] [--dir …] [-- psql args]
 *   archipelago-local down [--dir …]
 *
 * Exit codes: 0 ok, 1 error (the message says what to do), 2 usage. `main` returns the code rather than
 * calling `process.exit`, so that output is flushed and tests can call it in-process.
 */
import { ArchipelagoError } from "@archipelago/topology";
import { Command, CommanderError } from "commander";
import { type CliOutput, processOutput } from "./cli/cli-options.js";
import { downCommand } from "./cli/down-command.js";
import { psqlCommand } from "./cli/psql-command.js";
import { statusCommand } from "./cli/status-command.js";
import { upCommand } from "./cli/up-command.js";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export async function main(
  argv: readonly string[] = process.argv,
  output: CliOutput = processOutput,
): Promise<number> {
  if (output === processOutput) quietOnClosedPipe();
  let exitCode = EXIT_OK;
  const program = new Command("archipelago-local")
    .description(
      "Run a persistent local Archipelago cluster: real PostgreSQL islands with replicas.",
    )
    .exitOverride()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .showHelpAfterError("(run with --help for usage)");
  // Subcommands inherit exitOverride and the output settings from the program.
  program.addCommand(inherit(program, upCommand(output)));
  program.addCommand(inherit(program, statusCommand(output)));
  program.addCommand(
    inherit(
      program,
      psqlCommand(output, (code) => {
        exitCode = code;
      }),
    ),
  );
  program.addCommand(inherit(program, downCommand(output)));

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help prints and "fails" with exit code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    output.err(`archipelago-local: ${describe(error)}\n`);
    return EXIT_ERROR;
  }
}

/** `archipelago-local status | head -1` closes our stdout early: that is not an error worth a stack trace. */
function quietOnClosedPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? EXIT_OK);
  });
}

function inherit(program: Command, command: Command): Command {
  return command.copyInheritedSettings(program);
}

function describe(error: unknown): string {
  if (error instanceof ArchipelagoError) return `${error.message} [${error.code}]`;
  if (error instanceof Error) return error.message;
  return String(error);
}
