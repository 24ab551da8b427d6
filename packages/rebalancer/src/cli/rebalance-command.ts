/**
 * `archipelago plan`: the dry-run plan (always available, changes nothing).
 * `archipelago rebalance`: prints the same plan, then carries it out move by move.
 */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { Mover } from "../move/mover.js";
import type { RebalancePlan } from "../plan/plan-rebalance.js";
import { planFromCluster, runRebalance } from "../plan/rebalance.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, withCluster } from "./cli-session.js";
import { EXIT_FAILED } from "./exit-codes.js";
import { formatBytes, formatRatio, table } from "./text-format.js";

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
      const plan = await planFromCluster(session.config, session.masters, planOptions(options));
      session.print(plan, () => formatPlan(plan));
    }),
  );

  withPlanOptions(
    program
      .command("rebalance")
      .description("plan, print the plan, then move microshards one by one"),
  ).action((options: PlanCommandOptions, command: Command) =>
    withCluster(io, command, async (session) => {
      const plan = await planFromCluster(session.config, session.masters, planOptions(options));
      if (!session.json) io.err(formatPlan(plan));
      const mover = new Mover({ config: session.config, masters: session.masters });
      const outcome = await runRebalance(mover, plan, {
        onMove: (move, i) => {
          if (!session.json)
            io.err(
              `move ${i + 1}/${plan.moves.length}: microshard ${move.microshard} ${move.from} → ${move.to}`,
            );
        },
        onDone: (job) => {
          if (!session.json)
            io.err(`  done (job ${job.id}, write block ${Math.round(job.writeBlockMs ?? 0)} ms)`);
        },
      });
      if (outcome.failed.length > 0) io.exitCode ||= EXIT_FAILED;
      session.print({ plan, ...outcome }, () =>
        [
          `${outcome.completed.length} move(s) done, ${outcome.failed.length} failed`,
          ...outcome.failed.map((f) => `  microshard ${f.move.microshard}: ${f.error}`),
          ...outcome.cleanupPending.map(
            (c) => `  job ${c.jobId}: done, cleanup pending (${c.error})`,
          ),
        ].join("\n"),
      );
    }),
  );
}

function planOptions(options: PlanCommandOptions) {
  return {
    threshold: options.threshold,
    ...(options.maxMoves === undefined ? {} : { maxMoves: options.maxMoves }),
  };
}

export function formatPlan(plan: RebalancePlan): string {
  const lines = [
    `imbalance ${formatRatio(plan.before.imbalance)} → ${formatRatio(plan.after.imbalance)}; ` +
      `${plan.moves.length} move(s), ${formatBytes(plan.moves.reduce((n, m) => n + m.bytes, 0))}` +
      (plan.reachable ? "" : " (balance not fully reachable)"),
  ];
  if (plan.moves.length > 0) {
    lines.push(
      table(
        ["MICROSHARD", "FROM", "TO", "SIZE"],
        plan.moves.map((m) => [
          String(m.microshard),
          String(m.from),
          String(m.to),
          formatBytes(m.bytes),
        ]),
      ),
    );
  }
  lines.push(...plan.explanations.map((e) => `note: ${e}`));
  return lines.join("\n");
}
