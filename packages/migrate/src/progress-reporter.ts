/**
 * Shows a migration run's progress: a bar on a terminal, one JSON line per schema otherwise (CI logs,
 * files), so that a long run is never silent.
 */
import cliProgress from "cli-progress";
import type { MigrationProgress } from "./run-migrations.js";

export interface ProgressReporter {
  readonly onProgress: (event: MigrationProgress) => void;
  /** Stops the bar (call once the run is over, successful or not). */
  readonly stop: () => void;
}

export function migrationProgressReporter(
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: "migrating {bar} {value}/{total} schemas | {schema}", hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    return {
      onProgress: (event) => {
        if (event.kind === "start") bar.start(event.schemas, 0, { schema: "" });
        else bar.update(event.done, { schema: event.result.target.schema });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onProgress: (event) => {
      const line =
        event.kind === "start"
          ? { event: "migrations.start", schemas: event.schemas, migrations: event.migrations }
          : {
              event: "migrations.schema",
              island: event.result.target.island,
              schema: event.result.target.schema,
              applied: event.result.applied,
              failed: event.result.failure?.version,
              done: event.done,
              total: event.schemas,
            };
      stream.write(`${JSON.stringify(line)}\n`);
    },
    stop: () => {},
  };
}
