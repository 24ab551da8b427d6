/**
 * `archipelago move <microshard> --to <island>`: creates a move job and runs it to its end, showing its
 * progress on stderr; and `runMoveJob`, which `jobs resume` shares.
 *
 * Interrupted (Ctrl-C), the process simply ends: every step is checkpointed before it runs, a session
 * that dies releases its locks and rolls back an open switch, and `archipelago jobs resume <id>` picks
 * the job up where it was.
 */
import { microshardSchema } from "@archipelago/topology";
import type { Command } from "commander";
import type { JobRecord } from "../jobs/job-store.js";
import { MoveRefusedError } from "../move/move-errors.js";
import type { MoveOptions } from "../move/move-options.js";
import { isMoveStep, rollsForward } from "../move/move-steps.js";
import { Mover, processIdentity } from "../move/mover.js";
import { UsageError } from "./cli-errors.js";
import { integerAtLeast, microshardArgument } from "./cli-options.js";
import { type CliIo, type CliSession, withCluster } from "./cli-session.js";
import { EXIT_INTERRUPTED, EXIT_STALLED } from "./exit-codes.js";
import { moveReporter } from "./move-reporter.js";

interface MoveCommandOptions {
  readonly to: number;
  readonly verify?: boolean;
  readonly lockTimeout?: number;
  readonly switchDeadline?: number;
}

export function addMoveCommand(program: Command, io: CliIo): void {
  program
    .command("move")
    .description(
      "move one microshard to another island, online: copy over logical replication, then a short " +
        "bounded write block for the switch",
    )
    .argument("<microshard>", "microshard number or schema name (3 or sh0003)", microshardArgument)
    .requiredOption("--to <island>", "the island to move it to", integerAtLeast(1, "--to"))
    .option(
      "--verify",
      "compare row counts and checksums of every table under the write lock before switching " +
        "(lengthens the write block)",
    )
    .option(
      "--lock-timeout <ms>",
      "how long the switch waits for write locks before retrying (default 2000)",
      integerAtLeast(1, "--lock-timeout"),
    )
    .option(
      "--switch-deadline <ms>",
      "hard limit on the write block while the target confirms the final position (default 5000)",
      integerAtLeast(1, "--switch-deadline"),
    )
    .action((microshard: number, options: MoveCommandOptions, command: Command) =>
      withCluster(io, command, async (session) => {
        if (!session.config.islands.some((i) => i.island === options.to)) {
          throw new UsageError(
            `island ${options.to} is not in the config (islands: ${session.config.islands.map((i) => i.island).join(", ")})`,
          );
        }
        if (microshard === 0) {
          throw new MoveRefusedError(0, "shard 0 (global tables) stays on the global island");
        }
        const moveOptions = moveOptionsFrom(options);
        const job = await new Mover({
          config: session.config,
          masters: session.masters,
          options: moveOptions,
        }).createMove(microshard, options.to, { owner: processIdentity() });
        await runMoveJob(session, job, moveOptions);
      }),
    );
}

/** The mover options set by `--verify`, `--lock-timeout` and `--switch-deadline`. */
export function moveOptionsFrom(options: {
  verify?: boolean;
  lockTimeout?: number;
  switchDeadline?: number;
}): Partial<MoveOptions> {
  return {
    ...(options.verify ? { verify: true } : {}),
    ...(options.lockTimeout === undefined ? {} : { lockTimeoutMs: options.lockTimeout }),
    ...(options.switchDeadline === undefined ? {} : { switchDeadlineMs: options.switchDeadline }),
  };
}

/** Runs (or resumes) a move job, reporting progress, then its outcome with the job record. */
export async function runMoveJob(
  session: CliSession,
  job: JobRecord,
  options: Partial<MoveOptions> = {},
): Promise<void> {
  const { io } = session;
  const label = `${describeMove(job)}:`;
  const reporter = moveReporter(io.stderr, { enabled: session.progress, label });
  const mover = new Mover({
    config: session.config,
    masters: session.masters,
    options,
    onProgress: reporter.onProgress,
    beforeStep: async (step, current) => reporter.onStep(step, current),
  });
  const interrupted = () => {
    reporter.stop(false);
    const message = `interrupted; resume move job ${job.id} with: archipelago jobs resume ${job.id}`;
    if (session.json) {
      io.out(JSON.stringify({ error: { code: "INTERRUPTED", message, jobId: job.id } }, null, 2));
    } else io.err(`archipelago: ${message}`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const wasCompleted = job.state === "completed";
    const done = await mover.run(job.id);
    reporter.stop(true);
    session.print({ job: done }, () =>
      wasCompleted
        ? `move job ${done.id} was already completed: ${describeMove(done)}`
        : `move job ${done.id} completed: ${describeMove(done)}, write block ${done.writeBlockMs ?? "?"} ms`,
    );
  } catch (error) {
    reporter.stop(false);
    const after = await (await mover.store()).get(job.id).catch(() => undefined);
    // Whatever the error, a job left failed past its switch is stalled: the microshard is active
    // nowhere until it is resumed, which is what exit code 4 tells a script.
    const stalled = after?.state === "failed" && isMoveStep(after.step) && rollsForward(after.step);
    io.fail(error, session.json, after ? { job: after } : {}, stalled ? EXIT_STALLED : undefined);
    if (after && !session.json) {
      io.err(
        `job ${after.id} is ${after.state} at step ${after.step} (details: archipelago jobs show ${after.id})`,
      );
    }
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}

export function describeMove(job: JobRecord): string {
  const schema = job.microshard === null ? "?" : microshardSchema(job.microshard);
  return `${schema} island ${job.sourceIsland} → island ${job.targetIsland}`;
}
