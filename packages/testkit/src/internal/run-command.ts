import { spawn } from "node:child_process";
import { ArchipelagoError } from "@archipelago/topology";
import { serverProcessUser } from "../process-user.js";

/** A PostgreSQL tool exited non-zero; `output` is the tail of what it printed (never a password). */
export class CommandFailedError extends ArchipelagoError {
  readonly code = "COMMAND_FAILED";
  override readonly name = "CommandFailedError";
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? "signal"}): ${output.trim().slice(-2000)}`);
  }
  protected override details() {
    return { command: this.command, exitCode: this.exitCode, output: this.output };
  }
}

/**
 * Runs a server tool as the server user and resolves with its output. Arguments never carry secrets:
 * passwords travel in files (`--pwfile`, a passfile) so that they never show in a process listing.
 */
export function runAsServerUser(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
  const user = serverProcessUser();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      uid: user.uid,
      gid: user.gid,
      cwd: options.cwd ?? "/",
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (exitCode) => {
      const name = file.split("/").pop() ?? file;
      if (exitCode === 0) resolve(output);
      else reject(new CommandFailedError(`${name} ${args.join(" ")}`, exitCode, output));
    });
  });
}
