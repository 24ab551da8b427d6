/**
 * Which OS user runs the servers.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (CI does) every server process, and
 * every file it owns, belongs to the `postgres` user instead. As any other user, servers run as that user.
 */
import { execFileSync } from "node:child_process";
import { chownSync } from "node:fs";
import { ArchipelagoError } from "@archipelago/topology";

export interface ProcessUser {
  readonly uid: number;
  readonly gid: number;
  /** True when we switched away from root. */
  readonly switched: boolean;
}

export class NoPostgresUserError extends ArchipelagoError {
  readonly code = "NO_POSTGRES_USER";
  override readonly name = "NoPostgresUserError";
  constructor() {
    super(
      'Running as root, but there is no "postgres" OS user to run PostgreSQL as. Install the ' +
        "PostgreSQL server package (it creates the user) or run `useradd --system postgres`.",
    );
  }
}

let cached: ProcessUser | undefined;

export function serverProcessUser(): ProcessUser {
  if (cached) return cached;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) {
    cached = { uid, gid, switched: false };
    return cached;
  }
  try {
    const pgUid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const pgGid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    cached = { uid: pgUid, gid: pgGid, switched: true };
    return cached;
  } catch {
    throw new NoPostgresUserError();
  }
}

/** Gives a file or folder we created to the server user (no-op unless we switched from root). */
export function handToServerUser(path: string): void {
  const user = serverProcessUser();
  if (user.switched) chownSync(path, user.uid, user.gid);
}
