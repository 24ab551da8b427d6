/** `archipelago jobs list | show <id> | resume <id>`: the shard manager's persistent jobs. */
import { microshardSchema } from "@archipelago/topology";
import { type Command, InvalidArgumentError } from "commander";
import { type JobRecord, type JobState, JobStore, type MoveObject } from "../jobs/job-store.js";
import { JobNotFoundError, UsageError } from "./cli-errors.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, type CliSession, withCluster } from "./cli-session.js";
import { heldMoveLocks } from "./job-locks.js";
import { moveOptionsFrom, runMoveJob } from "./move-command.js";
import { formatDate, table } from "./text-format.js";

const JOB_STATES: readonly JobState[] = ["new", "running", "stopped", "failed", "completed"];
const PAGE = 1_000;

export function addJobsCommand(program: Command, io: CliIo): void {
  const jobs = program
    .command("jobs")
    .description("list, show and resume the shard manager's jobs (moves)");

  jobs
    .command("list")
    .description(
      "list jobs, newest last: id, type, state, microshard, source → target, step, write block, updated",
    )
    .option("--state <state>", `only jobs in this state (${JOB_STATES.join(", ")})`, jobState)
    .option("--limit <n>", "show the newest n jobs", integerAtLeast(1, "--limit"), 100)
    .action((options: { state?: JobState; limit: number }, command: Command) =>
      withCluster(io, command, async (session) => {
        const all = await listAllJobs(await jobStore(session));
        const held = await heldMoveLocks(session);
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
        const held = await heldMoveLocks(session);
        const shown = { ...job, interrupted: interrupted(job, held), objects };
        session.print({ job: shown }, () => formatJob(job, objects, shown.interrupted));
      }),
    );

  jobs
    .command("resume")
    .description(
      "run a move job again from its last checkpoint: an interrupted or stalled move finishes; a " +
        "move that failed before its switch (rolled back) starts over",
    )
    .argument("<id>", "job id", integerAtLeast(1, "the job id"))
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
        options: { verify?: boolean; lockTimeout?: number; switchDeadline?: number },
        command: Command,
      ) =>
        withCluster(io, command, async (session) => {
          const job = await (await jobStore(session)).get(id);
          if (!job) throw new JobNotFoundError(id);
          if (job.type !== "move") {
            throw new UsageError(`job ${id} is a ${job.type} job; only move jobs can be resumed`);
          }
          await runMoveJob(session, job, moveOptionsFrom(options));
        }),
    );
}

export async function jobStore(session: CliSession): Promise<JobStore> {
  return new JobStore(await session.masters.pool(session.config.globalIsland));
}

/** Every job, oldest first (the store pages by id). */
export async function listAllJobs(store: JobStore): Promise<JobRecord[]> {
  const all: JobRecord[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.list({ limit: PAGE, offset });
    all.push(...page);
    if (page.length < PAGE) return all;
  }
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
