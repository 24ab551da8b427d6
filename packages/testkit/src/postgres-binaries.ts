/**
 * Finds the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, postgres).
 *
 * Order: `PG_BIN`, then `PATH`, then the newest `/usr/lib/postgresql/<version>/bin` (Debian and Ubuntu
 * install server binaries there, off `PATH`). Missing binaries are an error that names the package.
 */
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ArchipelagoError } from "@archipelago/topology";

const REQUIRED = ["initdb", "pg_ctl", "pg_basebackup", "postgres"] as const;

export interface PostgresBinaries {
  readonly dir: string;
  readonly initdb: string;
  readonly pgCtl: string;
  readonly pgBasebackup: string;
  readonly postgres: string;
  /** `psql` when installed (only the CLI's `psql` command needs it). */
  readonly psql: string | undefined;
}

export class PostgresBinariesNotFoundError extends ArchipelagoError {
  readonly code = "POSTGRES_BINARIES_NOT_FOUND";
  override readonly name = "PostgresBinariesNotFoundError";
  constructor(readonly searched: readonly string[]) {
    super(
      "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, postgres) were not found in " +
        `${searched.join(", ") || "(nowhere)"}. Install them (Debian/Ubuntu: apt-get install postgresql-15; ` +
        "or any PostgreSQL ≥ 15 server package) or set PG_BIN to the folder that holds them.",
    );
  }
  protected override details() {
    return { searched: this.searched };
  }
}

let cached: PostgresBinaries | undefined;

/** Locates the binaries once per process. @throws PostgresBinariesNotFoundError */
export function findPostgresBinaries(env: NodeJS.ProcessEnv = process.env): PostgresBinaries {
  if (cached && env === process.env) return cached;
  const candidates = candidateDirs(env);
  const dir = candidates.find((d) => REQUIRED.every((bin) => existsSync(join(d, bin))));
  if (dir === undefined) throw new PostgresBinariesNotFoundError(candidates);
  const found: PostgresBinaries = {
    dir,
    initdb: join(dir, "initdb"),
    pgCtl: join(dir, "pg_ctl"),
    pgBasebackup: join(dir, "pg_basebackup"),
    postgres: join(dir, "postgres"),
    psql: existsSync(join(dir, "psql")) ? join(dir, "psql") : undefined,
  };
  if (env === process.env) cached = found;
  return found;
}

function candidateDirs(env: NodeJS.ProcessEnv): string[] {
  if (env.PG_BIN) return [env.PG_BIN];
  const fromPath = (env.PATH ?? "").split(delimiter).filter(Boolean);
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join(root, v, "bin"))
    : [];
  return [...fromPath, ...versions];
}
