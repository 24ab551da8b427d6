import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Whether a process runs; a zombie (exited, not yet reaped by its parent) does not. Read from procfs
 * rather than through the code under test, so the test does not trust what it checks.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

/** The pids whose full command line contains `pattern` (`pgrep -f`); none is an empty list. */
export function pgrep(pattern: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim().split("\n");
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
