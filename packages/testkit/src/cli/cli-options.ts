import { type Command, InvalidArgumentError, Option } from "commander";

/** Where `up` puts a cluster when no `--dir` is given, relative to the working directory. */
export const DEFAULT_DIR = ".archipelago/local";

export function dirOption(): Option {
  return new Option("--dir <dir>", "folder of the cluster").default(DEFAULT_DIR);
}

/** Parses an integer ≥ `min`; commander turns the error into a usage error (exit 2). */
export function integerAtLeast(min: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(
        `${what} must be an integer ≥ ${min}, not ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

/** Whether the user typed the option (as opposed to its default). */
export function given(command: Command, option: string): boolean {
  return command.getOptionValueSource(option) === "cli";
}

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
