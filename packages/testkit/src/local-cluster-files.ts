/**
 * The files in a local cluster's folder besides the data folders.
 *
 * - `cluster.json`: the manifest (`cluster-registry.ts`): owner, data folders, node layout.
 * - `.pgpass`: the libpq passfile that replicas, pg_basebackup and `archipelago-local psql` read, so
 *   that a password is never on a command line.
 * - `cluster-config.json` (persistent clusters only): the cluster config with passwords, for apps and
 *   for `openLocalCluster`. Mode 0600 like the passfile; it holds nothing the passfile does not.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ClusterConfig,
  parseClusterConfig,
  serializeClusterConfig,
} from "@archipelago/topology";
import { passfileLine } from "./internal/passfile.js";
import { handToServerUser } from "./process-user.js";

export const CLUSTER_CONFIG_FILE = "cluster-config.json";

export function passfilePath(clusterDir: string): string {
  return join(clusterDir, ".pgpass");
}

export function clusterConfigPath(clusterDir: string): string {
  return join(clusterDir, CLUSTER_CONFIG_FILE);
}

/** Writes a file only its owner can read (mode set explicitly: the umask cannot widen it). */
export function writeSecretFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Writes the config with passwords revealed, mode 0600, owned by the user running the CLI. */
export function writeClusterConfigFile(clusterDir: string, config: ClusterConfig): string {
  const path = clusterConfigPath(clusterDir);
  const body = serializeClusterConfig(config, { revealPasswords: true });
  writeSecretFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}

/** @throws NodeJS.ErrnoException when missing; InvalidConfigError when it does not validate. */
export function readClusterConfigFile(clusterDir: string): ClusterConfig {
  return parseClusterConfig(JSON.parse(readFileSync(clusterConfigPath(clusterDir), "utf8")));
}

/** The passfile for the servers: libpq refuses one that others can read, and the server user reads it. */
export function writePassfile(clusterDir: string, user: string, password: string): void {
  const path = passfilePath(clusterDir);
  writeSecretFile(path, passfileLine("127.0.0.1", user, password));
  handToServerUser(path);
}
