/**
 * Field names are camelCase in TypeScript and snake_case in PostgreSQL (`workspaceId` ↔
 * `workspace_id`), so an entity reads naturally on both sides without a column map to keep in sync.
 */

/** `workspaceId` → `workspace_id`; `createdAt` → `created_at`; `id` → `id`. */
export function columnName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Quotes an identifier (table or column name) for SQL; a `"` inside is doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
