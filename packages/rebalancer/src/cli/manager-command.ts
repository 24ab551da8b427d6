/**
 * `archipelago manager`: runs the shard manager role until interrupted — it leads if no other manager
 * does (or waits to take over), and prints what it does as JSON lines on stdout.
 * `archipelago start|stop --reason …`: the global switch that every manager obeys.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadMigrations } from "@archipelago/migrate";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type HttpAddress, parseHttpAddress } from "../http/http-address.js";
import { MIN_TOKEN_LENGTH } from "../http/http-auth.js";
import { type ManagerHttp, startManagerHttp } from "../http/manager-http.js";
import { ManagerMetrics } from "../http/manager-metrics.js";
import { JobControl } from "../jobs/job-control.js";
import type { GlobalState } from "../jobs/job-store.js";
import type { ManagerMode } from "../manager/auto-rebalance.js";
import { Manager } from "../manager/manager.js";
import { UsageError } from "./cli-errors.js";
import { integerAtLeast } from "./cli-options.js";
import { type CliIo, withCluster } from "./cli-session.js";
import { type LimitOptions, limitsFrom, withLimitOptions } from "./parent-job-run.js";

interface ManagerCommandOptions extends LimitOptions {
  readonly mode: ManagerMode;
  readonly tick: number;
  readonly measureEvery: number;
  readonly threshold?: number;
  readonly startAbove?: number;
  readonly confirmations?: number;
  readonly cooldown?: number;
  readonly migrations?: string;
  readonly identity?: string;
  readonly http?: HttpAddress;
  readonly tokenFile?: string;
}

function httpAddress(value: string): HttpAddress {
  const address = parseHttpAddress(value);
  if (!address) throw new InvalidArgumentError("expected [host:]port, e.g. 8080 or 0.0.0.0:8080");
  return address;
}

/** The HTTP API's bearer token: from a file or the environment, never from argv (ps shows argv). */
function httpToken(tokenFile: string | undefined): string {
  let token: string | undefined;
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (error) {
      throw new UsageError(
        `cannot read the token file ${tokenFile} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  } else {
    token = process.env.ARCHIPELAGO_HTTP_TOKEN?.trim();
  }
  if (!token) {
    throw new UsageError(
      "--http needs a bearer token: set ARCHIPELAGO_HTTP_TOKEN or pass --token-file <file>",
    );
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(`the HTTP token must be at least ${MIN_TOKEN_LENGTH} characters long`);
  }
  return token;
}

function ratio(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number ≥ 0");
  return n;
}

export function addManagerCommands(program: Command, io: CliIo): void {
  withLimitOptions(
    program
      .command("manager")
      .description(
        "run the shard manager (one process leads, the others stand by); JSON lines on stdout",
      )
      .addOption(
        new Option(
          "--mode <mode>",
          "off: measure only; manual: run jobs; automatic: also start rebalances",
        )
          .choices(["off", "manual", "automatic"])
          .default("manual"),
      )
      .option("--tick <ms>", "how often jobs are looked at", integerAtLeast(10, "--tick"), 1000)
      .option(
        "--measure-every <ms>",
        "how often sizes are measured and the map republished",
        integerAtLeast(10, "--measure-every"),
        30_000,
      )
      .option("--threshold <ratio>", "automatic mode: plan down to this deviation (0.1)", ratio)
      .option("--start-above <ratio>", "automatic mode: start above this deviation (0.25)", ratio)
      .option(
        "--confirmations <n>",
        "automatic mode: measurements in a row above the line (3)",
        integerAtLeast(1, "--confirmations"),
      )
      .option(
        "--cooldown <ms>",
        "automatic mode: quiet time after a rebalance (600000)",
        integerAtLeast(0, "--cooldown"),
      )
      .option("--migrations <dir>", "migrations folder, for allocate jobs")
      .option("--identity <name>", "this process's name in the catalog and logs (default host:pid)")
      .option(
        "--http <[host:]port>",
        "serve the HTTP API (/_reshard), /metrics and the operations page (host default 127.0.0.1)",
        httpAddress,
      )
      .option(
        "--token-file <file>",
        "the HTTP API's bearer token (default: $ARCHIPELAGO_HTTP_TOKEN)",
      ),
  ).action((options: ManagerCommandOptions, command: Command) =>
    withCluster(io, command, async (session) => {
      if (options.migrations !== undefined && !existsSync(options.migrations)) {
        throw new UsageError(`the migrations folder ${options.migrations} does not exist`);
      }
      const token = options.http ? httpToken(options.tokenFile) : undefined;
      const metrics = options.http ? new ManagerMetrics({ processMetrics: true }) : undefined;
      const manager = new Manager({
        config: session.config,
        masters: session.masters,
        options: {
          mode: options.mode,
          tickMs: options.tick,
          measureEveryMs: options.measureEvery,
          limits: limitsFrom(options),
          auto: {
            ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
            ...(options.startAbove === undefined ? {} : { startAbove: options.startAbove }),
            ...(options.confirmations === undefined
              ? {}
              : { confirmations: options.confirmations }),
            ...(options.cooldown === undefined ? {} : { cooldownMs: options.cooldown }),
          },
          ...(options.migrations === undefined
            ? {}
            : { migrations: loadMigrations(options.migrations) }),
          ...(options.identity === undefined ? {} : { identity: options.identity }),
        },
        onEvent: (event) => {
          metrics?.onEvent(event);
          io.out(JSON.stringify({ at: new Date().toISOString(), ...event }));
        },
        ...(metrics ? { onMoveProgress: metrics.onMoveProgress } : {}),
      });
      io.out(
        JSON.stringify({
          at: new Date().toISOString(),
          type: "manager-started",
          identity: manager.options.identity,
          mode: manager.options.mode,
          limits: manager.options.limits,
        }),
      );
      const stop = new Promise<string>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      let http: ManagerHttp | undefined;
      if (options.http && token && metrics) {
        http = await startManagerHttp({
          config: session.config,
          masters: session.masters,
          control: manager.control,
          isLeader: () => manager.isLeader,
          metrics,
          token,
          host: options.http.host,
          port: options.http.port,
          onServerError: (error, method, url) =>
            io.out(
              JSON.stringify({
                at: new Date().toISOString(),
                type: "http-error",
                method,
                path: url.split("?")[0],
                message: (error as Error).message,
              }),
            ),
        });
        io.out(
          JSON.stringify({ at: new Date().toISOString(), type: "http-listening", url: http.url }),
        );
      }
      manager.start();
      const signal = await stop;
      await http?.close();
      // Moves in flight stop before their next step and stay running: the next leader resumes them.
      await manager.close();
      io.out(JSON.stringify({ at: new Date().toISOString(), type: "manager-stopped", signal }));
    }),
  );

  for (const state of ["running", "stopped"] as const satisfies readonly GlobalState[]) {
    const name = state === "running" ? "start" : "stop";
    program
      .command(name)
      .description(
        state === "running"
          ? "turn the global switch on: jobs the switch stopped start again"
          : "turn the global switch off: new and running jobs stop (moves before their next step)",
      )
      .requiredOption("--reason <text>", "why (shown with the state)")
      .action((options: { reason: string }, command: Command) =>
        withCluster(io, command, async (session) => {
          const control = new JobControl({ config: session.config, masters: session.masters });
          const result = await control.setGlobalState(state, options.reason);
          session.print(
            { state: result.state, reason: result.reason },
            () => `shard manager ${result.state}: ${result.reason ?? ""}`,
          );
        }),
      );
  }
}
