/**
 * `archipelago cleanup [<job-id>]`: drops what finished moves left behind — the retired source copy of
 * a completed move (`sh0042_moved_<job>`), the leftovers of a move that failed before its switch and
 * could not be rolled back completely (an island did not answer).
 *
 * Without an id it cleans every such job; completed moves only once they are older than `--older-than`
 * (default 0: right away — the retired copy serves nobody, its schema name changed at the switch; keep
 * it longer if you want a window to inspect it). Each job is cleaned holding its microshard's move
 * lock, so a mover resuming the same job can never run at the same time; a move stalled past its
 * switch is never touched (it must be resumed).
 */
import { microshardSchema } from "@archipelago/topology";
import type { Command } from "commander";
import { JobNotFoundError } from "../jobs/job-errors.js";
import type { JobRecord, MoveObject } from "../jobs/job-store.js";
import { MoveRefusedError } from "../move/move-errors.js";
import { isMoveStep, retiredSchemaName, rollsForward } from "../move/move-steps.js";
import { Mover } from "../move/mover.js";
import { CleanupRefusedError, UsageError } from "./cli-errors.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, type CliSession, errorBody, withCluster } from "./cli-session.js";
import { EXIT_FAILED } from "./exit-codes.js";
import { jobStore } from "./jobs-command.js";

interface CleanupOptions {
  readonly olderThan: number;
  readonly dryRun?: boolean;
}

/** What cleanup would do with one job. */
export type CleanupVerdict =
  | { readonly kind: "clean"; readonly what: string }
  | { readonly kind: "skip"; readonly reason: string; readonly live?: true }
  | { readonly kind: "nothing"; readonly reason: string };

export function addCleanupCommand(program: Command, io: CliIo): void {
  program
    .command("cleanup")
    .description(
      "drop the retired source copies of completed moves and the leftovers of failed ones " +
        "(one job, or every job that has any)",
    )
    .argument("[job-id]", "only this move job", integerAtLeast(1, "the job id"))
    .option(
      "--older-than <ms>",
      "without a job id: only completed moves that finished at least this long ago",
      integerAtLeast(0, "--older-than"),
      0,
    )
    .option("--dry-run", "only say what would be dropped")
    .action((jobId: number | undefined, options: CleanupOptions, command: Command) =>
      withCluster(io, command, (session) => cleanup(session, jobId, options)),
    );
}

async function cleanup(
  session: CliSession,
  jobId: number | undefined,
  options: CleanupOptions,
): Promise<void> {
  const store = await jobStore(session);
  const jobs = await store.all();
  const now = Date.now();
  const mover = new Mover({ config: session.config, masters: session.masters });
  let selected: { job: JobRecord; verdict: CleanupVerdict }[];
  if (jobId !== undefined) {
    const job = jobs.find((j) => j.id === jobId);
    if (!job) throw new JobNotFoundError(jobId);
    if (job.type !== "move") throw new UsageError(`job ${jobId} is a ${job.type} job, not a move`);
    const verdict = cleanupVerdict(job, await store.objects(job.id), jobs, now, 0);
    if (verdict.kind === "skip") throw new CleanupRefusedError(jobId, verdict.reason);
    selected = [{ job, verdict }];
  } else {
    selected = [];
    for (const job of jobs.filter((j) => j.type === "move")) {
      const verdict = cleanupVerdict(
        job,
        await store.objects(job.id),
        jobs,
        now,
        options.olderThan,
      );
      // A move still under way is not cleanup's business: say nothing about it.
      if (verdict.kind === "clean" || (verdict.kind === "skip" && !verdict.live)) {
        selected.push({ job, verdict });
      }
    }
  }

  const cleaned: Record<string, unknown>[] = [];
  const skipped: Record<string, unknown>[] = [];
  const failed: Record<string, unknown>[] = [];
  for (const { job, verdict } of selected) {
    if (verdict.kind !== "clean" || options.dryRun) {
      const entry = { jobId: job.id, microshard: job.microshard };
      if (verdict.kind === "clean") cleaned.push({ ...entry, what: verdict.what, dryRun: true });
      else if (verdict.kind === "skip") skipped.push({ ...entry, reason: verdict.reason });
      else cleaned.push({ ...entry, what: verdict.reason, dropped: false, pending: [] });
      continue;
    }
    try {
      let outcome: { dropped: boolean; pending: readonly string[] };
      try {
        // Mover.cleanup holds the microshard's move lock itself, so it never races a running move.
        outcome = await mover.cleanup(job.id);
      } catch (error) {
        if (!(error instanceof MoveRefusedError)) throw error;
        const reason = "another process holds its microshard's move lock (a move is running)";
        if (jobId !== undefined) throw new CleanupRefusedError(job.id, reason);
        skipped.push({ jobId: job.id, microshard: job.microshard, reason });
        continue;
      }
      const { dropped, pending } = outcome;
      cleaned.push({
        jobId: job.id,
        microshard: job.microshard,
        what: verdict.what,
        dropped,
        pending,
      });
      if (pending.length > 0) session.io.exitCode ||= EXIT_FAILED;
    } catch (error) {
      if (jobId !== undefined) throw error;
      failed.push({ jobId: job.id, microshard: job.microshard, error: errorBody(error) });
      session.io.exitCode ||= EXIT_FAILED;
    }
  }
  const report = { cleaned, skipped, failed, dryRun: options.dryRun === true };
  session.print(report, () => formatReport(report));
}

/**
 * Whether a move job has something for cleanup, from its record and its cleanup log (pure).
 * `olderThanMs` holds back completed moves that finished more recently than that.
 */
export function cleanupVerdict(
  job: JobRecord,
  objects: readonly MoveObject[],
  jobs: readonly JobRecord[],
  now: number,
  olderThanMs: number,
): CleanupVerdict {
  const microshard = job.microshard as number;
  const step = isMoveStep(job.step) ? job.step : "precheck";
  if (job.state === "completed") {
    const retired = retiredSchemaName(microshardSchema(microshard), job.id);
    const left = objects.some(
      (o) =>
        o.island === job.sourceIsland &&
        o.kind === "schema" &&
        o.name === retired &&
        o.droppedAt === null,
    );
    if (!left) return { kind: "nothing", reason: "already cleaned up" };
    const age = now - job.updatedAt.getTime();
    if (age < olderThanMs) {
      return {
        kind: "skip",
        reason: `completed ${Math.round(age / 1000)} s ago; kept until it is ${olderThanMs} ms old`,
      };
    }
    return {
      kind: "clean",
      what: `drop the retired copy ${retired} on island ${job.sourceIsland}`,
    };
  }
  if (job.state === "failed" && rollsForward(step)) {
    return {
      kind: "skip",
      reason: `it is stalled past its switch; resume it first (archipelago jobs resume ${job.id})`,
    };
  }
  if (job.state !== "failed") {
    return {
      kind: "skip",
      reason: `it is ${job.state}; only finished moves are cleaned up`,
      live: true,
    };
  }
  // Before its switch the source schema is the live microshard: a log entry for its retired name is
  // only the record written just before a switch that did not commit.
  const left = objects.filter(
    (o) => o.droppedAt === null && !(o.kind === "schema" && o.island === job.sourceIsland),
  );
  if (left.length === 0) return { kind: "nothing", reason: "rolled back; nothing left behind" };
  const newer = jobs.find(
    (j) =>
      j.id > job.id &&
      j.type === "move" &&
      j.microshard === job.microshard &&
      (j.state === "new" || j.state === "running" || j.state === "stopped"),
  );
  if (newer) {
    return {
      kind: "skip",
      reason: `a newer move of microshard ${microshard} (job ${newer.id}) is ${newer.state}; the copy its log names may now be that job's`,
    };
  }
  return {
    kind: "clean",
    what: `drop ${left.map((o) => `${o.kind} ${o.name} on island ${o.island}`).join(", ")}`,
  };
}

function formatReport(report: {
  cleaned: Record<string, unknown>[];
  skipped: Record<string, unknown>[];
  failed: Record<string, unknown>[];
  dryRun: boolean;
}): string {
  const lines = [
    ...report.cleaned.map((c) => {
      if (c.dryRun) return `job ${c.jobId}: would ${c.what}`;
      const pending = (c.pending as string[] | undefined) ?? [];
      if (pending.length > 0) return `job ${c.jobId}: PENDING ${pending.join("; ")}`;
      return `job ${c.jobId}: ${c.dropped ? "done:" : "nothing to do:"} ${c.what}`;
    }),
    ...report.skipped.map((s) => `job ${s.jobId}: skipped: ${s.reason}`),
    ...report.failed.map(
      (f) => `job ${f.jobId}: FAILED: ${(f.error as { message?: string }).message}`,
    ),
  ];
  return lines.length === 0 ? "nothing to clean up" : lines.join("\n");
}
