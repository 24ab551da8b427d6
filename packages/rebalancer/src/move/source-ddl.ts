/**
 * The DDL of a microshard's schema, read from the source with `pg_dump --schema-only`.
 *
 * pg_dump already knows every object kind and the order they must be created in (a sequence before the
 * ID generator whose body is bound to it, tables before their indexes and constraints); rewriting that
 * from the system catalogs would be a worse pg_dump. The password reaches it through a passfile that
 * only this process can read and that is removed afterwards, never through argv or the environment.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ArchipelagoError, type NodeConfig } from "@archipelago/topology";

export class PgDumpError extends ArchipelagoError {
  readonly code = "PG_DUMP_FAILED";
  override readonly name = "PgDumpError";
  constructor(readonly reason: string) {
    super(`Could not read the schema DDL with pg_dump: ${reason}`);
  }
  protected override details() {
    return { reason: this.reason };
  }
}

export function findPgDump(env: NodeJS.ProcessEnv = process.env): string {
  const root = "/usr/lib/postgresql";
  const dirs = env.PG_BIN
    ? [env.PG_BIN]
    : [
        ...(env.PATH ?? "").split(delimiter).filter(Boolean),
        ...(existsSync(root)
          ? readdirSync(root)
              .filter((v) => /^\d+$/.test(v))
              .sort((a, b) => Number(b) - Number(a))
              .map((v) => join(root, v, "bin"))
          : []),
      ];
  const dir = dirs.find((d) => existsSync(join(d, "pg_dump")));
  if (!dir) {
    throw new PgDumpError(
      "pg_dump was not found (PG_BIN, PATH, /usr/lib/postgresql/*/bin); install the PostgreSQL client tools",
    );
  }
  return join(dir, "pg_dump");
}

/** The schema's DDL as SQL text, ready to run on the target. */
export async function dumpSchemaDdl(node: NodeConfig, schema: string): Promise<string> {
  const pgDump = findPgDump();
  const dir = mkdtempSync(join(tmpdir(), "archipelago-pgdump-"));
  const passfile = join(dir, "pgpass");
  try {
    const passfileField = (v: string) => v.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
    writeFileSync(
      passfile,
      `${passfileField(node.host)}:${node.port}:*:${passfileField(node.user)}:${passfileField(node.password?.reveal() ?? "")}\n`,
      { mode: 0o600 },
    );
    return await new Promise<string>((resolve, reject) => {
      execFile(
        pgDump,
        [
          "--schema-only",
          `--schema=${schema}`,
          "--no-owner",
          "--no-privileges",
          "--no-publications",
          "--no-subscriptions",
          "--no-security-labels",
          "--no-comments",
          `--host=${node.host}`,
          `--port=${node.port}`,
          `--username=${node.user}`,
          `--dbname=${node.database}`,
          "--no-password",
        ],
        { env: { ...process.env, PGPASSFILE: passfile }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new PgDumpError(stderr.trim() || error.message));
          // Recent pg_dump releases wrap the script in psql meta-commands (\restrict …); the server
          // does not understand them, and a schema-only dump has no other line starting with "\".
          else resolve(stdout.replace(/^\\.*$/gm, ""));
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
