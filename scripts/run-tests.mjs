// Runs the whole test suite with vitest, then prints the totals as one plain line
// ("N passed, N failed[, N skipped]") and fails the run if any PostgreSQL server started by the
// suite is still running afterwards (it is stopped, and counted as a failure).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const resultsDir = "test-results";
const resultsFile = join(resultsDir, "vitest.json");
mkdirSync(resultsDir, { recursive: true });
rmSync(resultsFile, { force: true });

const started = Date.now();
const vitest = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, "utf8"));
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  skipped = results.numPendingTests + results.numTodoTests;
  // A file that failed to load has no tests in the counts; count it as one failure.
  failed += results.testResults.filter(
    (f) => f.status === "failed" && f.assertionResults.length === 0,
  ).length;
} else {
  failed = 1;
  console.error("vitest wrote no results file");
}

const leftovers = leftoverServers();
if (leftovers.length > 0) {
  console.error(`Servers left running by the suite (now stopped): ${leftovers.join(", ")}`);
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGQUIT");
    } catch {}
  }
  failed += 1;
}

console.log(`suite took ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(vitest.status === 0 && failed === 0 ? 0 : 1);

/** Postmasters whose data folder is under the testkit's registry root. */
function leftoverServers() {
  const root = process.env.ARCHIPELAGO_TESTKIT_DIR ?? join(tmpdir(), "archipelago-testkit");
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = readlinkSync(`/proc/${entry}/exe`);
      if (!exe.endsWith("/postgres")) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(root)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}
