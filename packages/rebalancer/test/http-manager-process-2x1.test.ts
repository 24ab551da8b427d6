/**
 * `archipelago manager --http` as real processes on a real 2-island cluster (each island a master
 * and a streaming replica): the token rules, the operations page in headless Chromium showing the
 * islands, their nodes' roles and a running move; then the only manager killed (SIGKILL) in the middle
 * of that move (the open page says it cannot read the status) and another started on the same address,
 * which resumes the move from its checkpoint to completion while the same page, never reloaded,
 * recovers and shows the move done and the new leader.
 *
 * The move is held mid-way deterministically: an open transaction with an xid on the source keeps
 * the move's logical slot from being created, so it waits in `start-replication` until released.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IslandMasters, readCatalogs } from "@archipelago/migrate";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type ClientFixture,
  eventually,
  startClientFixture,
} from "../../../test/helpers/cluster-fixture.js";
import { allocateOnlyOn, writeConfigFile } from "./helpers/cluster-setup.js";
import { replicationLeftovers } from "./helpers/replication-leftovers.js";

const BIN = join(import.meta.dirname, "../bin/archipelago.js");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT_DIR = join(import.meta.dirname, "../../../test-results");
const TOKEN = "process-test-token-0123456789";

let fx: ClientFixture;
let masters: IslandMasters;
let dir: string;
let configPath: string;
const children: ChildProcess[] = [];

interface ManagerProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function startManager(args: readonly string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [BIN, "manager", "--tick", "100", ...args], {
    env: {
      ...process.env,
      ARCHIPELAGO_CONFIG: configPath,
      ARCHIPELAGO_HTTP_TOKEN: undefined,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let all = "";
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    all += chunk.toString();
    buffered += chunk.toString();
    const complete = buffered.split("\n");
    buffered = complete.pop() ?? "";
    for (const line of complete) if (line.trim().startsWith("{")) lines.push(JSON.parse(line));
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    all += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, lines, output: () => all, exited } satisfies ManagerProcess;
}

/** The fixture's `eventually`, with these tests' longer default wait (moves run meanwhile). */
function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) {
  return eventually(check, what, timeoutMs);
}

async function listening(manager: ManagerProcess): Promise<string> {
  return until(
    async () => manager.lines.find((l) => l.type === "http-listening")?.url as string | undefined,
    "the HTTP server to listen",
  );
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, inspected by the assertions
async function api(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 1, microshards: 0 });
  await allocateOnlyOn(fx.local.config, 4, [1]);
  masters = new IslandMasters(fx.local.config);
  for (let m = 1; m <= 4; m++) {
    await fx.local
      .master(1)
      .query(
        `INSERT INTO sh000${m}.items (n, note) SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g`,
      );
  }
  ({ dir, path: configPath } = writeConfigFile(fx.local.config, "archipelago-http-"));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await masters?.end();
  await fx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("--http needs a token of 16+ characters from the environment or a file, never argv", async () => {
  const none = startManager(["--http", "0"], {});
  expect(await none.exited).toBe(2);
  expect(none.output()).toContain("ARCHIPELAGO_HTTP_TOKEN");

  const short = startManager(["--http", "0"], { ARCHIPELAGO_HTTP_TOKEN: "tiny-secret" });
  expect(await short.exited).toBe(2);
  expect(short.output()).toContain("at least 16");
  expect(short.output()).not.toContain("tiny-secret");

  const missingFile = startManager(["--http", "0", "--token-file", join(dir, "nope")], {});
  expect(await missingFile.exited).toBe(2);

  const bad = startManager(["--http", "localhost:99999"], { ARCHIPELAGO_HTTP_TOKEN: TOKEN });
  expect(await bad.exited).toBe(2);

  // From a file: the manager serves with it, and it appears in neither argv nor the output.
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const fromFile = startManager(
    ["--http", "127.0.0.1:0", "--token-file", tokenFile, "--mode", "off"],
    {},
  );
  const url = await listening(fromFile);
  expect(new URL(url).hostname).toBe("127.0.0.1");
  expect((await api(url, "GET", "/_reshard/state")).status).toBe(200);
  expect((await fetch(`${url}/_reshard/state`)).status).toBe(401);
  const scraped = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).text();
  expect(scraped).toContain("archipelago_manager_leader");
  expect(scraped).toContain("process_cpu_user_seconds_total");
  const cmdline = readFileSync(`/proc/${fromFile.child.pid}/cmdline`, "utf8");
  expect(cmdline).not.toContain(TOKEN);
  fromFile.child.kill("SIGTERM");
  expect(await fromFile.exited).toBe(0);
  expect(fromFile.output()).not.toContain(TOKEN);
  expect(fromFile.lines.at(-1)).toMatchObject({ type: "manager-stopped" });
});

it("the operations page shows the islands and a running move; a killed manager's move is resumed by the next", async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} (apt-get install chromium)`).toBe(true);
  const first = startManager(["--http", "0", "--identity", "first"], {
    ARCHIPELAGO_HTTP_TOKEN: TOKEN,
  });
  const url = await listening(first);
  await until(
    async () => (first.lines.some((l) => l.type === "lead-taken") ? true : undefined),
    "first to lead",
  );

  const holder = await (await masters.pool(1)).connect();
  let released = false;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox"],
  });
  try {
    await holder.query("BEGIN");
    await holder.query("INSERT INTO sh0001.items (n) VALUES (900001)");
    const created = await api(url, "POST", "/_reshard/jobs", {
      type: "move",
      microshard: 1,
      island: 2,
    });
    expect(created.status).toBe(201);
    const jobId = created.body[0].id as number;
    await until(
      async () =>
        (await api(url, "GET", `/_reshard/jobs/${jobId}`)).body.step === "start-replication"
          ? true
          : undefined,
      "the move to reach start-replication",
    );

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${url}/#token=${TOKEN}`);
    await page.locator('[data-island="1"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-island="2"]').waitFor();
    const job = page.locator(`tr[data-job="${jobId}"]`);
    await job.waitFor();
    expect(await job.textContent()).toContain("start-replication");
    expect(await job.textContent()).toContain("1 → 2");
    for (const island of [1, 2]) {
      const card = page.locator(`[data-island="${island}"]`);
      expect(await card.locator(".role-master").count()).toBe(1);
      expect(await card.locator(".role-replica").count()).toBe(1);
    }
    expect(await page.locator('[data-island="1"] .bar span').count()).toBe(5); // shard 0 and 1–4
    expect(await page.locator('[data-testid="global-state"]').textContent()).toBe("running");
    // The token left the address bar (and so the history) once read.
    expect(new URL(page.url()).hash).toBe("");
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, "ops-page.png"), fullPage: true });
    expect(problems).toEqual([]);

    // Kill the only manager in the middle of the move: nothing runs it until another one starts.
    // The page, left open, says it cannot read the status.
    first.child.kill("SIGKILL");
    await first.exited;
    await page.locator("#problem").waitFor({ state: "visible", timeout: 10_000 });
    expect(await page.locator("#problem").textContent()).toContain("Could not read the status");
    await holder.query("COMMIT");
    released = true;
    expect(
      (await readCatalogs(masters)).find((r) => r.microshard === 1 && r.state === "active")?.island,
    ).toBe(1);

    // Another manager on the same address resumes the move from its checkpoint; the same page,
    // never reloaded, recovers and shows the move done and the new leader.
    const port = new URL(url).port;
    const second = startManager(["--http", `127.0.0.1:${port}`, "--identity", "second"], {
      ARCHIPELAGO_HTTP_TOKEN: TOKEN,
    });
    expect(await listening(second)).toBe(url);
    await page.locator(`tr[data-move="${jobId}"]`).waitFor({ timeout: 60_000 });
    expect(await page.locator(`tr[data-job="${jobId}"]`).count()).toBe(0);
    expect(await page.locator(`tr[data-move="${jobId}"]`).textContent()).toContain("completed");
    expect(await page.locator("#problem").isHidden()).toBe(true);
    await until(
      async () =>
        (await page.locator("#summary").textContent())?.includes("leader second")
          ? true
          : undefined,
      "the page to show the new leader",
    );
    await page.screenshot({
      path: join(SCREENSHOT_DIR, "ops-page-after-resume.png"),
      fullPage: true,
    });
    // The only errors while the manager was down are the failed polls (refused, or cut by the kill).
    expect(problems.filter((p) => !/net::ERR_[A-Z_]+/.test(p))).toEqual([]);

    const done = (await api(url, "GET", `/_reshard/jobs/${jobId}`)).body;
    expect(done.job_state).toBe("completed");
    expect(
      done.history.filter((h: { type: string }) => h.type === "running").length,
    ).toBeGreaterThanOrEqual(2);
    const placement = (await readCatalogs(masters)).filter((r) => r.state === "active");
    expect(placement.find((r) => r.microshard === 1)?.island).toBe(2);
    const rows = await fx.local.master(2).query("SELECT count(*)::int AS n FROM sh0001.items");
    expect(rows[0]).toEqual({ n: 2001 });

    // Without the fragment, the page asks for the token; a wrong one is refused, the right one shows
    // the cluster.
    const login = await browser.newPage();
    await login.goto(url);
    await login.locator("#login").waitFor({ state: "visible" });
    await login.fill("#token", "a-wrong-token-0123456789");
    await login.click("#login button[type=submit]");
    await login.locator("#problem").waitFor({ state: "visible" });
    expect(await login.locator("#problem").textContent()).toContain("refused");
    expect(await login.locator("#main").isHidden()).toBe(true);
    await login.fill("#token", TOKEN);
    await login.click("#login button[type=submit]");
    await login.locator(`tr[data-move="${jobId}"]`).waitFor({ timeout: 15_000 });
    expect(await login.locator("#login").isHidden()).toBe(true);
    expect(await login.locator("#problem").isHidden()).toBe(true);

    await until(
      async () => ((await replicationLeftovers(fx.local)).length === 0 ? true : undefined),
      "the move's replication objects to be dropped",
    );
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  } finally {
    await browser.close();
    if (!released) await holder.query("ROLLBACK").catch(() => {});
    holder.release();
  }
});

it("no manager process this file started is left running", () => {
  expect(children.length).toBeGreaterThan(0);
  expect(children.every((c) => c.exitCode !== null || c.signalCode !== null)).toBe(true);
});
