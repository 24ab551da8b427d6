/**
 * Where the `archipelago` command gets its cluster config: a JSON file named by `--config` or by the
 * ARCHIPELAGO_CONFIG environment variable — never argv, so no password shows in a process listing or a
 * shell history. A node the file gives no password takes PGPASSWORD from the environment, wrapped in a
 * `Secret` like a password from the file (so it also reaches the move's subscription, which connects
 * from the target server to the source and cannot read this process's environment).
 */
import { readFileSync, statSync } from "node:fs";
import { type ClusterConfig, parseClusterConfig, Secret } from "@archipelago/topology";
import { UsageError } from "./cli-errors.js";

export interface LoadedConfig {
  readonly config: ClusterConfig;
  readonly path: string;
  /** Things worth telling the user on stderr (never secrets). */
  readonly warnings: readonly string[];
}

/** @throws UsageError (no file, unreadable, not JSON), InvalidConfigError (names each bad field) */
export function loadClusterConfig(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  const path = option ?? env.ARCHIPELAGO_CONFIG;
  if (!path) {
    throw new UsageError("no cluster config: pass --config <file> or set ARCHIPELAGO_CONFIG");
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new UsageError(`cannot read the config file ${path} (${code})`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    // The parser's message may quote the text around the mistake, which can be a password.
    throw new UsageError(`the config file ${path} is not valid JSON`);
  }
  const parsed = parseClusterConfig(input);
  const fromEnv = env.PGPASSWORD ? new Secret(env.PGPASSWORD) : undefined;
  const config: ClusterConfig = fromEnv
    ? {
        ...parsed,
        islands: parsed.islands.map((island) => ({
          ...island,
          nodes: island.nodes.map((node) => ({ ...node, password: node.password ?? fromEnv })),
        })),
      }
    : parsed;
  const warnings: string[] = [];
  const inFile = parsed.islands.some((i) => i.nodes.some((n) => n.password !== undefined));
  if (inFile && process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    warnings.push(
      `the config file ${path} holds passwords and other users can read it; chmod 600 ${path}`,
    );
  }
  return { config, path, warnings };
}
