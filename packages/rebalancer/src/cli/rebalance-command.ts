/**
 * `archipelago plan`: the dry-run plan (always available, changes nothing).
 * `archipelago rebalance`: creates a rebalance job (planned at once, and the plan printed), then waits
 * for it with progress while this process takes part as a manager.
 */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { effectiveConfig } from "../jobs/draining-islands.js";
import { JobControl } from "../jobs/job-control.js";
import { planFromCluster } from "../plan/rebalance.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, withCluster } from "./cli-session.js";
import { type LimitOptions, limitsFrom, runParentJob, withLimitOptions } from "./parent-job-run.js";
import { formatPlan } from "./plan-format.js";

interface PlanCommandOptions {
  threshold: number;
  maxMoves?: number;
}

function threshold(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("expected a number ≥ 0, e.g. 0.1 for 10%");
  return n;
}

function withPlanOptions(command: Command): Command {
  return command
    .option(
      "--threshold <ratio>",
      "allowed deviation from each island's weighted share (0.1 = 10%)",
      threshold,
      0.1,
    )
    .option("--max-moves <n>", "plan at most this many moves", integerAtLeast(1, "max moves"));
}

export function addRebalanceCommands(program: Command, io: CliIo): void {
  withPlanOptions(
    program.command("plan").description("print the moves a rebalance would make (dry run)"),
  ).action((options: PlanCommandOptions, command: Command) =>
    withCluster(io, command, async (session) => {
      const config = await effectiveConfig(session.config, session.masters);
      const plan = await planFromCluster(config, session.masters, planOptions(options));
      session.print(plan, () => formatPlan(plan));
    }),
  );

  withLimitOptions(
    withPlanOptions(
      program
        .command("rebalance")
        .description(
          "create a rebalance job: print its plan, then run its moves (within the limits) with progress",
        ),
    ),
  ).action((options: PlanCommandOptions & LimitOptions, command: Command) =>
    withCluster(io, command, async (session) => {
      const control = new JobControl({ config: session.config, masters: session.masters });
      const created = await control.createRebalance(planOptions(options));
      await runParentJob(session, created, limitsFrom(options));
    }),
  );
}

function planOptions(options: PlanCommandOptions) {
  return {
    threshold: options.threshold,
    ...(options.maxMoves === undefined ? {} : { maxMoves: options.maxMoves }),
  };
}
