/**
 * `archipelago drain <island>`: marks the island draining (it receives nothing from now on) and runs a
 * drain job that moves every microshard off it; then it can be removed from the config.
 * `archipelago undrain <island>`: lifts the mark (and stops a live drain of it).
 */
import type { Command } from "commander";
import { JobControl } from "../jobs/job-control.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, withCluster } from "./cli-session.js";
import { type LimitOptions, limitsFrom, runParentJob, withLimitOptions } from "./parent-job-run.js";

export function addDrainCommands(program: Command, io: CliIo): void {
  withLimitOptions(
    program
      .command("drain")
      .description(
        "mark an island draining and move every microshard off it (print the plan, then run it)",
      )
      .argument("<island>", "the island to empty", integerAtLeast(1, "the island"))
      .option("--reason <text>", "why (kept with the mark)", "drained by an operator")
      .option("--no-wait", "create the drain job and return; a running manager carries it out"),
  ).action(
    (island: number, options: LimitOptions & { reason: string; wait: boolean }, command: Command) =>
      withCluster(io, command, async (session) => {
        const control = new JobControl({ config: session.config, masters: session.masters });
        const created = await control.createDrain(island, options.reason);
        if (!options.wait) {
          session.print(
            created,
            () => `drain job ${created.job.id} created (${created.children.length} move(s))`,
          );
          return;
        }
        await runParentJob(session, created, limitsFrom(options));
      }),
  );

  program
    .command("undrain")
    .description("lift an island's draining mark (a live drain of it is stopped)")
    .argument("<island>", "the island", integerAtLeast(1, "the island"))
    .action((island: number, _options: unknown, command: Command) =>
      withCluster(io, command, async (session) => {
        const control = new JobControl({ config: session.config, masters: session.masters });
        const result = await control.undrain(island);
        session.print(result, () =>
          [
            result.unmarked
              ? `island ${island} is no longer draining`
              : `island ${island} was not marked draining`,
            ...(result.stopped === null ? [] : [`drain job ${result.stopped} stopped`]),
          ].join("\n"),
        );
      }),
    );
}
