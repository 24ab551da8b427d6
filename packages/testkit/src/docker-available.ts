import { connectContainerRuntime } from "./internal/container-runtime.js";

/**
 * Whether a Docker (or compatible) engine answers, within `timeoutMs`. For `describe.skipIf` in tests
 * of the container backend; it never throws.
 */
export async function dockerAvailable(timeoutMs = 3_000): Promise<boolean> {
  try {
    await connectContainerRuntime(timeoutMs);
    return true;
  } catch {
    return false;
  }
}
