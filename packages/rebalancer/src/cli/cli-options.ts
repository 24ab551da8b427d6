/** Argument parsers for the `archipelago` command; a bad value is a usage error (exit code 2). */
import { parseMicroshardSchema } from "@archipelago/topology";
import { InvalidArgumentError } from "commander";

/** An integer ≥ `min`. */
export function integerAtLeast(min: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(
        `${what} must be an integer ≥ ${min}, not ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

/** A microshard number, `42` or `sh0042`. */
export function microshardArgument(value: string): number {
  if (/^sh\d{4}$/.test(value)) return parseMicroshardSchema(value);
  const n = Number(value);
  if (!/^\d{1,4}$/.test(value) || n < 0 || n > 9999) {
    throw new InvalidArgumentError(
      `expected a microshard number 1..9999 or a schema name like sh0042, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Comma-separated microshard numbers (0 = shard 0). */
export function numberList(value: string): number[] {
  const items = value.split(",").map((item) => item.trim());
  if (items.some((item) => !/^\d{1,4}$/.test(item))) {
    throw new InvalidArgumentError("expected comma-separated microshard numbers, e.g. 0,1,2");
  }
  return items.map(Number);
}
