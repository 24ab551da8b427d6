/**
 * One entry point for tests that should run on whichever backend the machine has.
 *
 * The backend comes from the `backend` option, else `ARCHIPELAGO_TESTKIT_BACKEND` (`local`, the
 * default, or `testcontainers`). An unknown value is an error rather than a silent fallback: a CI job
 * that asked for containers must not quietly test the local binaries instead.
 */
import type { ContainerClusterOptions } from "./container-cluster.js";
import { InvalidBackendError, UnsupportedOperationError } from "./errors.js";
import { startLocalCluster } from "./start-local-cluster.js";
import type { TestCluster, TestClusterBackend, TestClusterShape } from "./test-cluster.js";

export const TEST_CLUSTER_BACKENDS: readonly TestClusterBackend[] = ["local", "testcontainers"];

export interface TestClusterOptions extends TestClusterShape {
  /** Overrides `ARCHIPELAGO_TESTKIT_BACKEND`. */
  readonly backend?: TestClusterBackend;
  /** testcontainers backend only (ignored by the local one). @default "postgres:15" */
  readonly image?: ContainerClusterOptions["image"];
  /**
   * Local backend only: keep the cluster in this folder, beyond this process (see `startLocalCluster`).
   * The testcontainers backend refuses it with UnsupportedOperationError.
   */
  readonly dir?: string;
}

/** The backend named by the option or the environment. @throws InvalidBackendError */
export function resolveBackend(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TestClusterBackend {
  const value = option ?? env.ARCHIPELAGO_TESTKIT_BACKEND ?? "";
  if (value === "") return "local";
  const backend = TEST_CLUSTER_BACKENDS.find((b) => b === value);
  if (backend === undefined) throw new InvalidBackendError(value, TEST_CLUSTER_BACKENDS);
  return backend;
}

/**
 * Starts a cluster on the chosen backend. Stop it with `stop()` (in `afterAll`).
 * @throws InvalidBackendError, DockerUnavailableError, PostgresBinariesNotFoundError
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const { backend: option, image, dir, ...shape } = options;
  const backend = resolveBackend(option);
  switch (backend) {
    case "local":
      return startLocalCluster(dir === undefined ? shape : { ...shape, dir });
    case "testcontainers": {
      if (dir !== undefined) {
        throw new UnsupportedOperationError(
          backend,
          "keep a cluster in a folder",
          "its data lives in container volumes that stop() removes; use the local backend for a persistent cluster",
        );
      }
      // Loaded on demand: testcontainers and its Docker client are heavy to import.
      const { startContainerCluster } = await import("./container-cluster.js");
      return startContainerCluster({ ...shape, ...(image === undefined ? {} : { image }) });
    }
  }
}
