import type { ContainerRuntimeClient } from "testcontainers";
import { DockerUnavailableError } from "../errors.js";

export type TestcontainersModule = typeof import("testcontainers");

/**
 * testcontainers (with dockerode, ssh2 and friends) is loaded only when a container backend is used, so
 * that the local backend and the CLI start as fast as before it was added.
 */
export function loadTestcontainers(): Promise<TestcontainersModule> {
  return import("testcontainers");
}

/**
 * The engine client, or DockerUnavailableError. testcontainers tries DOCKER_HOST, its config file and
 * the usual sockets in turn; the timeout bounds a socket that accepts but never answers.
 */
export async function connectContainerRuntime(timeoutMs = 5_000): Promise<ContainerRuntimeClient> {
  const { getContainerRuntimeClient } = await loadTestcontainers();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DockerUnavailableError(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([getContainerRuntimeClient(), timeout]);
  } catch (error) {
    if (error instanceof DockerUnavailableError) throw error;
    throw new DockerUnavailableError(error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
  }
}
