/** Plain-text rendering helpers for the `archipelago` command's tables. */

export { formatBytes } from "../internal/format-bytes.js";

/** Left-aligned columns separated by two spaces, trailing spaces trimmed. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** 1536 → "1.5 kB" (powers of 1024, like PostgreSQL's pg_size_pretty). */

/** A ratio with two decimals, or "?" when unknown. */
export function formatRatio(ratio: number | null): string {
  return ratio === null ? "?" : ratio.toFixed(2);
}

export function formatDate(date: Date | string): string {
  return (typeof date === "string" ? new Date(date) : date).toISOString().replace(/\.\d+Z$/, "Z");
}
