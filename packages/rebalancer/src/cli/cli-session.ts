/**
 * What every `archipelago` command shares: the global options, the config and the island masters,
 * printing a result (text, or one JSON document on stdout with `--json`), and reporting a failure
 * (its message on stderr, or `{ "error": … }` on stdout with `--json`) with its exit code.
 */
import { IslandMasters } from "@archipelago/migrate";
import { ArchipelagoError, type ClusterConfig } from "@archipelago/topology";
import type { Command } from "commander";
import pg from "pg";
import { loadClusterConfig } from "./cli-config.js";
import { EXIT_OK, exitCodeFor } from "./exit-codes.js";

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
  /** `--no-progress` sets it false. */
  readonly progress?: boolean;
}

/** The process's streams and the exit code the command ends with. */
export class CliIo {
  exitCode = EXIT_OK;
  constructor(
    readonly stdout: NodeJS.WriteStream = process.stdout,
    readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  out(text: string): void {
    this.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  err(text: string): void {
    this.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** Prints an error and sets the exit code (the error's own, unless `exitCode` is given). */
  fail(
    error: unknown,
    json: boolean,
    extra: Record<string, unknown> = {},
    exitCode = exitCodeFor(error),
  ): void {
    const code = exitCode;
    if (this.exitCode === EXIT_OK) this.exitCode = code;
    const body = errorBody(error);
    if (json) this.out(JSON.stringify({ error: body, ...extra }, null, 2));
    else {
      const tag = error instanceof ArchipelagoError ? ` [${error.code}]` : "";
      this.err(`archipelago: ${String(body.message)}${tag}`);
      if (typeof body.hint === "string") this.err(`hint: ${body.hint}`);
    }
  }
}

export interface CliSession {
  readonly io: CliIo;
  readonly config: ClusterConfig;
  readonly masters: IslandMasters;
  readonly json: boolean;
  /** Whether to report progress on stderr (a bar on a terminal, JSON lines otherwise). */
  readonly progress: boolean;
  /** Prints the command's result: `value` as one JSON document with `--json`, else `text()`. */
  print(value: unknown, text: () => string): void;
}

/** Runs a command's work with the config and masters, reporting any failure through `io`. */
export async function withCluster(
  io: CliIo,
  command: Command,
  work: (session: CliSession) => Promise<void>,
): Promise<void> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const json = options.json === true;
  let masters: IslandMasters | undefined;
  try {
    const loaded = loadClusterConfig(options.config);
    for (const warning of loaded.warnings) io.err(`archipelago: warning: ${warning}`);
    masters = new IslandMasters(loaded.config);
    const session: CliSession = {
      io,
      config: loaded.config,
      masters,
      json,
      progress: options.progress !== false,
      print: (value, text) => io.out(json ? JSON.stringify(value, null, 2) : text()),
    };
    await work(session);
  } catch (error) {
    io.fail(error, json);
  } finally {
    await masters?.end().catch(() => {});
  }
}

/** An error as JSON: an Archipelago error's own fields; for others, its message (and SQLSTATE). */
export function errorBody(error: unknown): Record<string, unknown> {
  if (error instanceof ArchipelagoError) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof pg.DatabaseError) {
    const missingCatalog = error.code === "42P01" || error.code === "3F000";
    return {
      code: "DATABASE_ERROR",
      name: "DatabaseError",
      message,
      sqlstate: error.code,
      ...(missingCatalog
        ? { hint: "is the catalog installed on every island? (archipelago-migrate install)" }
        : {}),
    };
  }
  const system = (error as { code?: unknown }).code;
  return {
    code: "ERROR",
    name: error instanceof Error ? error.name : "Error",
    message,
    ...(typeof system === "string" ? { systemCode: system } : {}),
  };
}
