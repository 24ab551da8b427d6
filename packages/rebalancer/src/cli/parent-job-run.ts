/**
 * What `rebalance`, `drain` and `jobs resume` (of a parent) share: limits options, and waiting for a
 * parent job with its progress on stderr while this process takes part as a manager (it leads, and so
 * runs the moves, unless another manager already does).
 */
import type { Command } from "commander";
import type { ParentCreated } from "../jobs/job-control.js";
import type { JobRecord } from "../jobs/job-store.js";
import { Manager } from "../manager/manager.js";
import type { MoveLimits } from "../manager/schedule-moves.js";
import { integerAtLeast } from "./cli-options.js";
import type { CliSession } from "./cli-session.js";
import { EXIT_FAILED, EXIT_INTERRUPTED } from "./exit-codes.js";
import { watchParentJob } from "./parent-job-reporter.js";
import { formatPlan } from "./plan-format.js";

export interface LimitOptions {
  readonly maxParallelMoves?: number;
  readonly maxMovesPerIsland?: number;
  readonly copyRate?: number;
}

export function withLimitOptions(command: Command): Command {
  return command
    .option(
      "--max-parallel-moves <n>",
      "moves running at once in the cluster (default 2)",
      integerAtLeast(1, "--max-parallel-moves"),
    )
    .option(
      "--max-moves-per-island <n>",
      "moves touching one island at once, as source or target (default 1)",
      integerAtLeast(1, "--max-moves-per-island"),
    )
    .option(
      "--copy-rate <bytes-per-second>",
      "average rate at which copies are started (default: no limit)",
      integerAtLeast(1, "--copy-rate"),
    );
}

export function limitsFrom(options: LimitOptions): Partial<MoveLimits> {
  return {
    ...(options.maxParallelMoves === undefined
      ? {}
      : { maxParallelMoves: options.maxParallelMoves }),
    ...(options.maxMovesPerIsland === undefined
      ? {}
      : { maxMovesPerIsland: options.maxMovesPerIsland }),
    ...(options.copyRate === undefined ? {} : { copyBytesPerSecond: options.copyRate }),
  };
}

/** Prints the plan, then waits for the job (taking part as a manager) and prints how it ended. */
export async function runParentJob(
  session: CliSession,
  created: Pick<ParentCreated, "job"> & Partial<Pick<ParentCreated, "plan">>,
  limits: Partial<MoveLimits>,
): Promise<void> {
  const { io, json } = session;
  const { job } = created;
  if (created.plan && !json) io.err(formatPlan(created.plan));
  const manager = new Manager({
    config: session.config,
    masters: session.masters,
    options: { mode: "manual", tickMs: 500, limits },
  });
  const store = await manager.control.store();
  const reporter = watchParentJob(store, job.id, io.stderr, {
    enabled: session.progress && !json,
  });
  const interrupted = () => {
    const message =
      `interrupted; ${job.type} job ${job.id} goes on under any running manager ` +
      `(archipelago manager), or resume it with: archipelago jobs resume ${job.id}`;
    void manager.close().finally(() => {
      if (json) io.out(JSON.stringify({ error: { code: "INTERRUPTED", message, jobId: job.id } }));
      else io.err(`archipelago: ${message}`);
      process.exit(EXIT_INTERRUPTED);
    });
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let ended: JobRecord;
  try {
    ended = await manager.waitFor(job.id);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await reporter.stop();
    await manager.close();
  }
  const moves = await store.children(job.id);
  if (ended.state !== "completed") io.exitCode ||= EXIT_FAILED;
  session.print({ job: ended, moves }, () =>
    [
      `${ended.type} job ${ended.id} ${ended.state}: ${ended.stateReason ?? ""}`,
      ...moves.map(
        (m) =>
          `  job ${m.id}: microshard ${m.microshard} island ${m.sourceIsland} → ${m.targetIsland} ${m.state}` +
          (m.writeBlockMs === null ? "" : `, write block ${Math.round(m.writeBlockMs)} ms`),
      ),
    ].join("\n"),
  );
}
