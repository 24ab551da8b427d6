/** `archipelago jobs list | show <id> | resume <id>`: the shard manager's persistent jobs. */
import { microshardSchema } from "@archipelago/topology";
import { type Command, InvalidArgumentError } from "commander";
import { JobControl } from "../jobs/job-control.js";
import { JobNotFoundError } from "../jobs/job-errors.js";
import {
  JOB_STATES,
  type JobRecord,
  type JobState,
  JobStore,
  type MoveObject,
} from "../jobs/job-store.js";
import { heldMoveLocks } from "../jobs/move-locks.js";
import { processIdentity } from "../move/mover.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, type CliSession, withCluster } from "./cli-session.js";
import { moveOptionsFrom, runMoveJob } from "./move-command.js";
import { runParentJob } from "./parent-job-run.js";
import { formatDate, table } from "./text-format.js";

export function addJobsCommand(program: Command, io: CliIo): void {
  const jobs = program
    .command("jobs")
    .description("list, show, stop, resume and delete the shard manager's jobs");

  jobs
    .command("list")
    .description(
      "list jobs, newest last: id, type, state, microshard, source → target, step, write block, updated",
    )
    .option("--state <state>", `only jobs in this state (${JOB_STATES.join(", ")})`, jobState)
    .option("--limit <n>", "show the newest n jobs", integerAtLeast(1, "--limit"), 100)
    .action((options: { state?: JobState; limit: number }, command: Command) =>
      withCluster(io, command, async (session) => {
        const all = await (await jobStore(session)).all();
        const held = await heldMoveLocks(await session.masters.pool(session.config.globalIsland));
        const shown = all
          .filter((j) => options.state === undefined || j.state === options.state)
          .slice(-options.limit)
          .map((j) => ({ ...summary(j), interrupted: interrupted(j, held) }));
        session.print({ jobs: shown }, () =>
          shown.length === 0
            ? "no jobs"
            : table(
                ["ID", "TYPE", "STATE", "MICROSHARD", "MOVE", "STEP", "WRITE BLOCK", "UPDATED"],
                shown.map((j) => [
                  String(j.id),
                  j.type,
                  j.interrupted ? `${j.state} (interrupted)` : j.state,
                  j.microshard === null ? "-" : microshardSchema(j.microshard),
                  j.sourceIsland === null ? "-" : `${j.sourceIsland} → ${j.targetIsland}`,
                  j.step,
                  j.writeBlockMs === null ? "-" : `${Math.round(j.writeBlockMs)} ms`,
                  formatDate(j.updatedAt),
                ]),
              ),
        );
      }),
    );

  jobs
    .command("show")
    .description("show one job in full: state and reason, checkpoint, error, cleanup log, history")
    .argument("<id>", "job id", integerAtLeast(1, "the job id"))
    .action((id: number, _options: unknown, command: Command) =>
      withCluster(io, command, async (session) => {
        const store = await jobStore(session);
        const job = await store.get(id);
        if (!job) throw new JobNotFoundError(id);
        const objects = await store.objects(id);
        const held = await heldMoveLocks(await session.masters.pool(session.config.globalIsland));
        const shown = { ...job, interrupted: interrupted(job, held), objects };
        session.print({ job: shown }, () => formatJob(job, objects, shown.interrupted));
      }),
    );

  jobs
    .command("resume")
    .description(
      "resume a job: a stopped or failed job runs again from its last checkpoint (an interrupted or " +
        "stalled move finishes; a move that failed before its switch starts over); a move or a " +
        "rebalance/drain is run here with progress, other jobs by a running manager",
    )
    .argument("<id>", "job id", integerAtLeast(1, "the job id"))
    .option("--reason <text>", "why (kept in the job's history)", "resumed by an operator")
    .option("--verify", "compare every table's rows under the write lock before switching")
    .option(
      "--lock-timeout <ms>",
      "write-lock wait of the switch",
      integerAtLeast(1, "--lock-timeout"),
    )
    .option(
      "--switch-deadline <ms>",
      "hard limit on the write block",
      integerAtLeast(1, "--switch-deadline"),
    )
    .action(
      (
        id: number,
        options: {
          reason: string;
          verify?: boolean;
          lockTimeout?: number;
          switchDeadline?: number;
        },
        command: Command,
      ) =>
        withCluster(io, command, async (session) => {
          const control = new JobControl({ config: session.config, masters: session.masters });
          // A move is run here (the managers leave it alone unless this process dies).
          const current = await control.get(id);
          const job = await control.resume(
            id,
            options.reason,
            current.type === "move" ? { owner: processIdentity() } : {},
          );
          if (job.state === "completed") {
            session.print({ job }, () => `job ${id} is already completed`);
          } else if (job.state === "stopped") {
            session.print(
              { job },
              () => `job ${id} waits for the global switch (archipelago start --reason …)`,
            );
          } else if (job.type === "move") {
            await runMoveJob(session, job, moveOptionsFrom(options));
          } else if (job.type === "rebalance" || job.type === "drain") {
            await runParentJob(session, { job }, {});
          } else {
            session.print(
              { job },
              () => `job ${id} (${job.type}) is ${job.state}; a running manager runs it`,
            );
          }
        }),
    );

  jobs
    .command("stop")
    .description(
      "stop a job (a rebalance or drain with its moves): a move stops before its next step, or " +
        "finishes if its switch has begun; it stays stopped until resumed, across a global stop/start",
    )
    .argument("<id>", "job id", integerAtLeast(1, "the job id"))
    .option("--reason <text>", "why (kept in the job's history)", "stopped by an operator")
    .action((id: number, options: { reason: string }, command: Command) =>
      withCluster(io, command, async (session) => {
        const control = new JobControl({ config: session.config, masters: session.masters });
        const job = await control.stop(id, options.reason);
        session.print({ job }, () =>
          job.state === "stopped"
            ? `job ${id} stopped${job.type === "move" ? " (its mover stops before its next step)" : ""}`
            : `job ${id} is ${job.state}; nothing to stop`,
        );
      }),
    );

  jobs
    .command("delete")
    .description(
      "delete a job that is not running (with a rebalance's or drain's moves); a move's leftovers " +
        "must be cleaned up first",
    )
    .argument("<id>", "job id", integerAtLeast(1, "the job id"))
    .action((id: number, _options: unknown, command: Command) =>
      withCluster(io, command, async (session) => {
        const control = new JobControl({ config: session.config, masters: session.masters });
        await control.delete(id);
        session.print({ deleted: id }, () => `job ${id} deleted`);
      }),
    );
}

export async function jobStore(session: CliSession): Promise<JobStore> {
  return new JobStore(await session.masters.pool(session.config.globalIsland));
}

function summary(job: JobRecord) {
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    stateReason: job.stateReason,
    microshard: job.microshard,
    sourceIsland: job.sourceIsland,
    targetIsland: job.targetIsland,
    step: job.step,
    writeBlockMs: job.writeBlockMs,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** Recorded as running, but no process holds its microshard's move lock: its mover died. */
function interrupted(job: JobRecord, held: ReadonlySet<number>): boolean {
  return job.state === "running" && job.microshard !== null && !held.has(job.microshard);
}

function formatJob(job: JobRecord, objects: readonly MoveObject[], isInterrupted: boolean): string {
  const what =
    job.microshard === null
      ? job.type
      : `${job.type} ${microshardSchema(job.microshard)} island ${job.sourceIsland} → island ${job.targetIsland}`;
  const lines = [
    `job ${job.id}: ${what}`,
    `  state        ${job.state}${isInterrupted ? " (interrupted: resume it)" : ""}${job.stateReason ? ` — ${job.stateReason}` : ""}`,
    `  step         ${job.step}`,
    `  write block  ${job.writeBlockMs === null ? "-" : `${Math.round(job.writeBlockMs)} ms`}`,
    `  created      ${formatDate(job.createdAt)}`,
    `  updated      ${formatDate(job.updatedAt)}`,
    `  checkpoint   ${JSON.stringify(job.checkpoint)}`,
    `  error        ${job.error === null ? "-" : JSON.stringify(job.error)}`,
    "cleanup log:",
    objects.length === 0
      ? "  (empty)"
      : table(
          ["  ISLAND", "KIND", "NAME", "DROPPED"],
          objects.map((o) => [
            `  ${o.island}`,
            o.kind,
            o.name,
            o.droppedAt === null ? "-" : formatDate(o.droppedAt),
          ]),
        ),
    "history:",
    ...job.history.map((h) => `  ${h.at}  ${h.type.padEnd(12)}  ${h.detail}`),
  ];
  return lines.join("\n");
}

function jobState(value: string): JobState {
  if (!(JOB_STATES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `expected one of ${JOB_STATES.join(", ")}, not ${JSON.stringify(value)}`,
    );
  }
  return value as JobState;
}
