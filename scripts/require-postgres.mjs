// Stops early, with the package to install, when the PostgreSQL server binaries are missing.
// (The testkit finds them the same way; this check runs before anything is compiled or started.)
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

const needed = ["initdb", "pg_ctl", "pg_basebackup", "postgres"];
const root = "/usr/lib/postgresql";
const dirs = process.env.PG_BIN
  ? [process.env.PG_BIN]
  : [
      ...(process.env.PATH ?? "").split(delimiter).filter(Boolean),
      ...(existsSync(root)
        ? readdirSync(root)
            .filter((v) => /^\d+$/.test(v))
            .map((v) => join(root, v, "bin"))
        : []),
    ];
if (!dirs.some((dir) => needed.every((bin) => existsSync(join(dir, bin))))) {
  console.error(
    "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, postgres) were not found.\n" +
      "Install them, e.g. on Debian/Ubuntu: apt-get install postgresql-15\n" +
      "(or point PG_BIN at the folder that holds them).",
  );
  process.exit(1);
}
