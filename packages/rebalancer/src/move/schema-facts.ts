/**
 * What the mover reads about a microshard's schema: its tables, whether each can be replicated, a
 * fingerprint of its columns (to notice DDL during the move), its sequences, and per-table checksums
 * for the optional verification. Identifiers are bound as values or quoted.
 */
import type pg from "pg";

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function listTables(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

/** Tables logical replication cannot replicate updates/deletes of: no primary key, no replica identity. */
export async function tablesWithoutIdentity(
  client: pg.ClientBase,
  schema: string,
): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r'
       AND NOT (c.relreplident = 'f'
         OR (c.relreplident = 'd' AND EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
         OR (c.relreplident = 'i' AND EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)))
     ORDER BY c.relname`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

/** A digest of every table's columns and types: differs as soon as DDL changed one side. */
export async function schemaFingerprint(client: pg.ClientBase, schema: string): Promise<string> {
  const { rows } = await client.query<{ fingerprint: string | null }>(
    `SELECT md5(string_agg(format('%s.%s:%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod)),
                           ',' ORDER BY c.relname, a.attnum)) AS fingerprint
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema],
  );
  return rows[0]?.fingerprint ?? "empty";
}

export interface SequenceValue {
  readonly name: string;
  readonly lastValue: string;
  readonly isCalled: boolean;
}

export async function readSequences(
  client: pg.ClientBase,
  schema: string,
): Promise<SequenceValue[]> {
  const { rows: names } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname`,
    [schema],
  );
  const values: SequenceValue[] = [];
  for (const { relname } of names) {
    const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text, is_called FROM ${quoteIdent(schema)}.${quoteIdent(relname)}`,
    );
    const row = rows[0];
    if (row) values.push({ name: relname, lastValue: row.last_value, isCalled: row.is_called });
  }
  return values;
}

export async function writeSequences(
  client: pg.ClientBase,
  schema: string,
  values: readonly SequenceValue[],
): Promise<void> {
  for (const value of values) {
    await client.query("SELECT setval($1::regclass, $2::bigint, $3)", [
      `${quoteIdent(schema)}.${quoteIdent(value.name)}`,
      value.lastValue,
      value.isCalled,
    ]);
  }
}

export interface TableChecksum {
  readonly table: string;
  readonly rows: string;
  readonly md5: string | null;
}

/** Row count and an order-independent digest of every row, per table (for `--verify`). */
export async function tableChecksums(
  client: pg.ClientBase,
  schema: string,
  tables: readonly string[],
): Promise<TableChecksum[]> {
  const sums: TableChecksum[] = [];
  for (const table of tables) {
    const { rows } = await client.query<{ rows: string; md5: string | null }>(
      `SELECT count(*)::text AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS md5
       FROM ${quoteIdent(schema)}.${quoteIdent(table)} t`,
    );
    sums.push({ table, rows: rows[0]?.rows ?? "0", md5: rows[0]?.md5 ?? null });
  }
  return sums;
}
