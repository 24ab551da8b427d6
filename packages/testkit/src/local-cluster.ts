/**
 * Real multi-island PostgreSQL clusters on loopback, started from the binaries on this machine.
 *
 * Start-up is the cost every integration test pays, so it is cut down: `initdb` runs once per cluster
 * into a template folder that each master copies (a copy is several times faster than `initdb`), masters
 * start in parallel, and every replica is a real `pg_basebackup -R` streaming replica with its own slot,
 * cloned in parallel. Passwords go through a `--pwfile` and a passfile, never through argv.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type ClusterConfig,
  parseClusterConfig,
  Secret,
} from "@archipelago/topology";
import {
  destroyClusterSync,
  registryRoot,
  sweepStaleClusters,
  trackForExit,
  untrackForExit,
  writeManifest,
} from "./cluster-registry.js";
import { freePort } from "./free-port.js";
import { runAsServerUser } from "./internal/run-command.js";
import { LocalNode, type NodeCredentials } from "./local-node.js";
import { findPostgresBinaries } from "./postgres-binaries.js";
import { handToServerUser } from "./process-user.js";
import { FAST_TEST_SETTINGS, renderSettings } from "./server-settings.js";

export interface LocalClusterOptions {
  /** Number of islands, numbered 1..n. @default 2 */
  readonly islands?: number;
  /** Streaming replicas per island. @default 1 */
  readonly replicasPerIsland?: number;
  /** @default "archipelago" */
  readonly database?: string;
  /** The superuser the config connects as. @default "archipelago" */
  readonly user?: string;
  /** Extra postgresql.conf settings, rendered verbatim (`{ work_mem: "'8MB'" }`). */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** The leading digit of generated IDs. @default 1 */
  readonly idEnvironment?: number;
  /**
   * A folder to keep the cluster in across processes (the CLI uses this). Without it the cluster is
   * ephemeral: it lives under the registry root and dies with its owner process.
   */
  readonly dir?: string;
}

export interface LocalIsland {
  readonly island: number;
  readonly nodes: readonly LocalNode[];
}

export class LocalCluster {
  #state: "running" | "stopped" = "running";

  constructor(
    readonly id: string,
    readonly dir: string,
    readonly islands: readonly LocalIsland[],
    readonly config: ClusterConfig,
    readonly persistent: boolean,
  ) {}

  get nodes(): readonly LocalNode[] {
    return this.islands.flatMap((i) => i.nodes);
  }

  /** The island's node that currently has the master role (tracks promotions done through this handle). */
  master(island: number): LocalNode {
    const found = this.island(island).nodes.find((n) => n.role === "master" && n.status === "running");
    const fallback = this.island(island).nodes.find((n) => n.role === "master");
    const node = found ?? fallback;
    if (!node) throw new Error(`island ${island} has no master`);
    return node;
  }

  replicas(island: number): LocalNode[] {
    return this.island(island).nodes.filter((n) => n.role === "replica");
  }

  node(island: number, index: number): LocalNode {
    const node = this.island(island).nodes[index];
    if (!node) throw new Error(`island ${island} has no node ${index}`);
    return node;
  }

  island(island: number): LocalIsland {
    const found = this.islands.find((i) => i.island === island);
    if (!found) throw new Error(`no island ${island} in this cluster`);
    return found;
  }

  stopNode(node: LocalNode): Promise<void> {
    return node.stop("fast");
  }

  /** An immediate shutdown: like a crash, the server does recovery when restarted. */
  killNode(node: LocalNode): Promise<void> {
    return node.stop("immediate");
  }

  async restartNode(node: LocalNode): Promise<void> {
    await node.stop("fast");
    await node.start();
  }

  startNode(node: LocalNode): Promise<void> {
    return node.start();
  }

  /**
   * Promotes a replica to master of its island, then points the island's other replicas at it (with a
   * slot on the new master, since slots are not replicated). The old master must be stopped first, or
   * the island has two masters; bringing it back as a replica needs pg_rewind and is out of scope here.
   */
  async promote(replica: LocalNode): Promise<void> {
    await replica.promote();
    await waitFor(async () => {
      const [row] = await replica.query<{ recovering: boolean }>("SELECT pg_is_in_recovery() AS recovering");
      return row?.recovering === false;
    }, `${replica.name} to leave recovery`);
    for (const other of this.island(replica.island).nodes) {
      if (other === replica || other.role !== "replica" || other.status !== "running") continue;
      const slot = slotName(other);
      await replica.query(
        "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)",
        [slot],
      );
      const conninfo = `host=127.0.0.1 port=${replica.port} user=${this.config.islands[0]?.nodes[0]?.user} passfile=${passfilePath(this.dir)} application_name=${other.name}`;
      await other.query(`ALTER SYSTEM SET primary_conninfo = ${quoteLiteral(conninfo)}`);
      await other.query("SELECT pg_reload_conf()");
    }
  }

  /** Waits until every running, unpaused replica has replayed everything its master wrote so far. */
  async waitForReplication(island?: number, timeoutMs = 30_000): Promise<void> {
    const islands = island === undefined ? this.islands : [this.island(island)];
    await Promise.all(
      islands.map(async ({ island: number }) => {
        const master = this.master(number);
        if (master.status !== "running") return;
        const [row] = await master.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
        const lsn = row?.lsn;
        await Promise.all(
          this.replicas(number)
            .filter((r) => r.status === "running")
            .map(async (replica) => {
              const [paused] = await replica.query<{ paused: boolean }>(
                "SELECT pg_is_wal_replay_paused() AS paused",
              );
              if (paused?.paused) return;
              await waitFor(
                async () => {
                  const [r] = await replica.query<{ caught_up: boolean }>(
                    "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught_up",
                    [lsn],
                  );
                  return r?.caught_up === true;
                },
                `${replica.name} to replay up to ${lsn}`,
                timeoutMs,
              );
            }),
        );
      }),
    );
  }

  /** Stops WAL replay on a replica (it keeps receiving), so that it lags behind its master. */
  async pauseReplay(replica: LocalNode): Promise<void> {
    await replica.query("SELECT pg_wal_replay_pause()");
    await waitFor(async () => {
      const [r] = await replica.query<{ state: string }>("SELECT pg_get_wal_replay_pause_state() AS state");
      return r?.state === "paused";
    }, `${replica.name} to pause replay`);
  }

  async resumeReplay(replica: LocalNode): Promise<void> {
    await replica.query("SELECT pg_wal_replay_resume()");
  }

  /** Stops every server and removes the cluster's folder. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    await Promise.allSettled(this.nodes.map((n) => n.stop("immediate")));
    destroyClusterSync(this.dir, this.nodes.map((n) => n.dataDir));
    untrackForExit(this.id);
    this.#state = "stopped";
  }
}

/** Starts a cluster of real PostgreSQL servers and returns its handle and config. */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const islandCount = options.islands ?? 2;
  const replicasPerIsland = options.replicasPerIsland ?? 1;
  if (!Number.isInteger(islandCount) || islandCount < 1) throw new RangeError("islands must be ≥ 1");
  if (!Number.isInteger(replicasPerIsland) || replicasPerIsland < 0) {
    throw new RangeError("replicasPerIsland must be ≥ 0");
  }
  const binaries = findPostgresBinaries();
  const persistent = options.dir !== undefined;
  const root = registryRoot();
  if (!persistent) sweepStaleClusters(root);

  const dir = persistent ? resolve(options.dir as string) : makeClusterDir(root);
  if (persistent) mkdirSync(dir, { recursive: true, mode: 0o700 });
  handToServerUser(dir);
  const id = `${persistent ? "local" : "ephemeral"}-${randomBytes(4).toString("hex")}`;

  const credentials: NodeCredentials = {
    user: options.user ?? "archipelago",
    password: new Secret(randomBytes(18).toString("base64url")),
    database: options.database ?? "archipelago",
  };
  const ports = await distinctFreePorts(islandCount * (1 + replicasPerIsland));
  const islands: LocalIsland[] = [];
  for (let i = 0; i < islandCount; i++) {
    const island = i + 1;
    const nodes: LocalNode[] = [];
    for (let n = 0; n <= replicasPerIsland; n++) {
      const port = ports[i * (1 + replicasPerIsland) + n] as number;
      const nodeDir = join(dir, `island${island}-node${n}`);
      nodes.push(new LocalNode(island, n, nodeDir, port, n === 0 ? "master" : "replica", binaries, credentials));
    }
    islands.push({ island, nodes });
  }
  const allNodes = islands.flatMap((i) => i.nodes);

  // The manifest goes first, so that a crash from here on leaves something the sweep can find.
  writeManifest(dir, {
    id,
    ownerPid: process.pid,
    persistent,
    createdAt: new Date().toISOString(),
    dataDirs: allNodes.map((n) => n.dataDir),
  });
  if (!persistent) trackForExit(id, () => destroyClusterSync(dir, allNodes.map((n) => n.dataDir)));

  try {
    writeSecretFile(join(dir, ".pwfile"), `${credentials.password.reveal()}\n`);
    writeSecretFile(
      passfilePath(dir),
      `127.0.0.1:*:*:${credentials.user}:${credentials.password.reveal()}\n`,
    );
    const template = join(dir, "template");
    await runAsServerUser(binaries.initdb, [
      "--pgdata",
      template,
      "--username",
      credentials.user,
      `--pwfile=${join(dir, ".pwfile")}`,
      "--auth-host=scram-sha-256",
      "--auth-local=peer",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    rmSync(join(dir, ".pwfile"));
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
      idEnvironment: options.idEnvironment ?? 1,
      islands: islands.map((island) => ({
        island: island.island,
        nodes: island.nodes.map((node) => ({
          name: node.name,
          ...node.connection(),
        })),
      })),
    });
    return new LocalCluster(id, dir, islands, config, persistent);
  } catch (error) {
    destroyClusterSync(dir, allNodes.map((n) => n.dataDir));
    untrackForExit(id);
    throw error;
  }
}

function makeClusterDir(root: string): string {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  return mkdtempSync(join(root, "cluster-"));
}

function writeSecretFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
  handToServerUser(path);
}

export function passfilePath(clusterDir: string): string {
  return join(clusterDir, ".pgpass");
}

function slotName(node: LocalNode): string {
  return `island${node.island}_node${node.index}`;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
