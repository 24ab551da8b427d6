/**
 * Starts real multi-island PostgreSQL clusters on loopback, from the binaries on this machine.
 *
 * Start-up is the cost every integration test pays, so it is cut down: `initdb` runs once per cluster
 * into a template folder that each master copies (a copy is several times faster than `initdb`), masters
 * start in parallel, and every replica is a real `pg_basebackup -R` streaming replica with its own slot,
 * cloned in parallel. Passwords go through a `--pwfile` and a passfile, never through argv.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseClusterConfig } from "@archipelago/topology";
import {
  destroyClusterSync,
  MANIFEST_FILE,
  registryRoot,
  sweepStaleClusters,
  trackForExit,
  untrackForExit,
  writeManifest,
} from "./cluster-registry.js";
import { ClusterDirNotAccessibleError, ClusterDirNotEmptyError } from "./errors.js";
import { freePorts } from "./free-port.js";
import { resolveShape } from "./internal/cluster-shape.js";
import { slotName } from "./internal/replication.js";
import { runAsServerUser } from "./internal/run-command.js";
import { quoteIdentifier } from "./internal/sql-quote.js";
import { LocalCluster, type LocalIsland } from "./local-cluster.js";
import {
  passfilePath,
  writeClusterConfigFile,
  writePassfile,
  writeSecretFile,
} from "./local-cluster-files.js";
import { LocalNode } from "./local-node.js";
import { findPostgresBinaries } from "./postgres-binaries.js";
import { handToServerUser, serverProcessUser } from "./process-user.js";
import { FAST_TEST_SETTINGS, renderSettings } from "./server-settings.js";
import type { TestClusterShape } from "./test-cluster.js";

export interface LocalClusterOptions extends TestClusterShape {
  /**
   * A folder to keep the cluster in across processes (the CLI uses this); it must be absent or empty.
   * Such a cluster is persistent: it outlives this process, `cluster-config.json` in the folder holds its
   * config, and `openLocalCluster(dir)` reopens it. Without `dir` the cluster is ephemeral: it lives
   * under the registry root and dies with its owner process.
   */
  readonly dir?: string;
}

/** Starts a cluster of real PostgreSQL servers and returns its handle and config. */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const shape = resolveShape(options);
  const { islands: islandCount, replicasPerIsland, credentials } = shape;
  const binaries = findPostgresBinaries();
  const persistent = options.dir !== undefined;
  const root = registryRoot();
  if (!persistent) sweepStaleClusters(root);

  const dir = persistent ? makePersistentDir(resolve(options.dir as string)) : makeClusterDir(root);
  handToServerUser(dir);
  const id = `${persistent ? "local" : "ephemeral"}-${randomBytes(4).toString("hex")}`;

  const ports = await freePorts(islandCount * (1 + replicasPerIsland));
  const islands: LocalIsland[] = [];
  for (let i = 0; i < islandCount; i++) {
    const island = i + 1;
    const nodes: LocalNode[] = [];
    for (let n = 0; n <= replicasPerIsland; n++) {
      const port = ports[i * (1 + replicasPerIsland) + n] as number;
      const nodeDir = join(dir, `island${island}-node${n}`);
      const role = n === 0 ? "master" : "replica";
      nodes.push(new LocalNode(island, n, nodeDir, port, role, binaries, credentials));
    }
    islands.push({ island, nodes });
  }
  const allNodes = islands.flatMap((i) => i.nodes);
  const dataDirs = allNodes.map((n) => n.dataDir);

  // The manifest goes first, so that a crash from here on leaves something the sweep can find.
  writeManifest(dir, {
    id,
    ownerPid: process.pid,
    persistent,
    createdAt: new Date().toISOString(),
    dataDirs,
    nodes: allNodes.map((n) => ({ island: n.island, index: n.index, port: n.port, dir: n.dir })),
  });
  if (!persistent) trackForExit(id, () => destroyClusterSync(dir, dataDirs));

  try {
    await assertServerUserCanWrite(dir);
    const pwfile = join(dir, ".pwfile");
    writeSecretFile(pwfile, `${credentials.password.reveal()}\n`);
    handToServerUser(pwfile);
    writePassfile(dir, credentials.user, credentials.password.reveal());
    const template = join(dir, "template");
    await runAsServerUser(binaries.initdb, [
      "--pgdata",
      template,
      "--username",
      credentials.user,
      `--pwfile=${pwfile}`,
      "--auth-host=scram-sha-256",
      "--auth-local=peer",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    rmSync(pwfile);
    const settings = renderSettings({ ...FAST_TEST_SETTINGS, ...options.settings });

    const masters = islands.map((i) => i.nodes[0] as LocalNode);
    await Promise.all(
      masters.map(async (master) => {
        mkdirSync(master.dir, { mode: 0o700 });
        handToServerUser(master.dir);
        await runAsServerUser("cp", ["-a", template, master.dataDir]);
        master.configure(`${settings}port = ${master.port}\n`);
        await master.start();
        const create = `CREATE DATABASE ${quoteIdentifier(credentials.database)}`;
        await master.query(create, [], { database: "postgres" }).catch((error) => {
          // `postgres` and the template databases exist already; anything else is a real failure.
          if ((error as { code?: string }).code !== "42P04") throw error;
        });
      }),
    );
    rmSync(template, { recursive: true, force: true });

    await Promise.all(
      islands.flatMap((island) =>
        island.nodes.slice(1).map(async (replica) => {
          const master = island.nodes[0] as LocalNode;
          mkdirSync(replica.dir, { mode: 0o700 });
          handToServerUser(replica.dir);
          await runAsServerUser(
            binaries.pgBasebackup,
            [
              "--pgdata",
              replica.dataDir,
              "--host=127.0.0.1",
              `--port=${master.port}`,
              `--username=${credentials.user}`,
              "--no-password",
              "--write-recovery-conf",
              "--wal-method=stream",
              "--checkpoint=fast",
              "--create-slot",
              `--slot=${slotName(replica)}`,
              "--no-sync",
            ],
            { env: { PGPASSFILE: passfilePath(dir), PGAPPNAME: replica.name } },
          );
          replica.configure(`port = ${replica.port}\n`);
          await replica.start();
        }),
      ),
    );

    const config = parseClusterConfig({
      idEnvironment: shape.idEnvironment,
      islands: islands.map((island) => ({
        island: island.island,
        nodes: island.nodes.map((node) => ({ name: node.name, ...node.connection() })),
      })),
    });
    if (persistent) writeClusterConfigFile(dir, config);
    return new LocalCluster(id, dir, islands, config, persistent);
  } catch (error) {
    destroyClusterSync(dir, dataDirs);
    untrackForExit(id);
    throw error;
  }
}

function makeClusterDir(root: string): string {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  return mkdtempSync(join(root, "cluster-"));
}

/**
 * Creates the folder of a persistent cluster. Parents get 0755: `mkdirSync(recursive, mode 0700)` gives
 * every created parent 0700 too, and when we run as root the server user could then not reach the data.
 * An existing folder must be empty, because a failed start removes the folder.
 */
function makePersistentDir(dir: string): string {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0) throw new ClusterDirNotEmptyError(dir, entries.includes(MANIFEST_FILE));
  } else {
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode: 0o700 });
  }
  return dir;
}

/** Fails early and clearly (instead of with initdb's "permission denied") on an unreachable folder. */
async function assertServerUserCanWrite(dir: string): Promise<void> {
  const user = serverProcessUser();
  if (!user.switched) return;
  await runAsServerUser("test", ["-w", dir, "-a", "-x", dir]).catch(() => {
    throw new ClusterDirNotAccessibleError(dir, user.uid);
  });
}
