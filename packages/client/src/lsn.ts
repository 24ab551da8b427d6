/**
 * PostgreSQL WAL positions (LSNs), as the client compares them for read-after-write.
 *
 * PostgreSQL prints a WAL position (`pg_lsn`) as two hexadecimal numbers, the high and low 32 bits of
 * a 64-bit byte offset: `16/B374D848` is `0x16_B374D848`. Positions are compared to decide whether a
 * replica has replayed past a write, so they are parsed into a `bigint`, which compares exactly over the
 * whole 64-bit range. Rejected: comparing the strings (`9/0` sorts after `10/0`) and `number` (loses
 * precision above 2^53, which a busy server's WAL reaches).
 *
 * The parser accepts exactly what PostgreSQL's `pg_lsn` input accepts (1 to 8 hex digits on each side
 * of the slash, either case) and nothing else: no whitespace, sign or `0x`.
 */
import { InvalidLsnError } from "./client-errors.js";

export { InvalidLsnError };

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const MAX_LSN = (1n << 64n) - 1n;

/** `"16/B374D848"` → `0x16B374D848n`. @throws InvalidLsnError */
export function parseLsn(text: string): bigint {
  const match = typeof text === "string" ? LSN_PATTERN.exec(text) : null;
  if (!match?.[1] || !match[2]) {
    throw new InvalidLsnError(
      String(text),
      "a WAL position is two hexadecimal numbers of 1 to 8 digits separated by a slash, e.g. 16/B374D848",
    );
  }
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** `0x16B374D848n` → `"16/B374D848"`, as PostgreSQL prints it. @throws InvalidLsnError */
export function formatLsn(lsn: bigint): string {
  if (typeof lsn !== "bigint" || lsn < 0n || lsn > MAX_LSN) {
    throw new InvalidLsnError(String(lsn), "a WAL position is a bigint from 0 to 2^64 - 1");
  }
  const high = (lsn >> 32n).toString(16).toUpperCase();
  const low = (lsn & 0xffffffffn).toString(16).toUpperCase();
  return `${high}/${low}`;
}
