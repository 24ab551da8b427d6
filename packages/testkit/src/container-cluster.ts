/**
 * The same topology as `startLocalCluster`, in Docker through testcontainers: one container per server
 * (the official postgres image), all on one private network, each master's replicas cloned from it
 * with `pg_basebackup -R` inside their own container and streaming through their own slot.
 *
 * For machines without PostgreSQL binaries but with a container engine (macOS laptops, some CI). The
 * handle has the local handle's API (`TestCluster`); what a container cannot do is refused with
 * UnsupportedOperationError rather than approximated. Cleanup: `stop()` removes the containers, their
 * volumes and the network; if the process dies first, testcontainers' reaper (Ryuk) removes everything
 * labelled with this session once the process's connection to it drops.
 *
 * Host ports are picked on this machine and bound explicitly (not left to Docker), so that a stopped and
 * restarted container comes back on the same port and the cluster config stays true. With a remote
 * engine (DOCKER_HOST on another machine) a port free here might be taken there; start again if so.
 */
import { randomBytes } from "node:crypto";
import { type ClusterConfig, parseClusterConfig } from "@archipelago/topology";
import type { ContainerRuntimeClient, StartedNetwork, StartedTestContainer } from "testcontainers";
import { CONTAINER_PORT, ContainerNode } from "./container-node.js";
import { freePorts } from "./free-port.js";
import { resolveShape } from "./internal/cluster-shape.js";
import {
  connectContainerRuntime,
  loadTestcontainers,
  type TestcontainersModule,
} from "./internal/container-runtime.js";
import {
  containerSettingsArgs,
  PASSFILE,
  PASSFILE_SOURCE,
  PASSWORD_FILE,
  REPLICA_ENTRYPOINT_SCRIPT,
  REPLICATION_INIT_SCRIPT,
  REPLICATION_INIT_SCRIPT_BODY,
} from "./internal/container-setup.js";
import { findIsland, findMaster, findNode, findReplicas } from "./internal/island-lookup.js";
import { passfileLine } from "./internal/passfile.js";
import {
  followMaster,
  pauseReplay,
  resumeReplay,
  slotName,
  waitForReplay,
  waitUntilPromoted,
} from "./internal/replication.js";
import { quoteConninfoValue } from "./internal/sql-quote.js";
import type { NodeCredentials } from "./local-node.js";
import type { TestCluster, TestClusterShape, TestIsland } from "./test-cluster.js";

export interface ContainerClusterOptions extends TestClusterShape {
  /** Any image with the official postgres image's entrypoint, PostgreSQL ≥ 15. @default "postgres:15" */
  readonly image?: string;
  /** Per container: pull, initdb or clone, and start. @default 120_000 */
  readonly startupTimeoutMs?: number;
}

export type ContainerIsland = TestIsland<ContainerNode>;

export class ContainerCluster implements TestCluster<ContainerNode> {
  readonly backend = "testcontainers" as const;
  #state: "running" | "stopped" = "running";

  constructor(
    readonly id: string,
    readonly islands: readonly ContainerIsland[],
    readonly config: ClusterConfig,
    private readonly network: StartedNetwork,
  ) {}

  get nodes(): readonly ContainerNode[] {
    return this.islands.flatMap((i) => i.nodes);
  }

  master(island: number): ContainerNode {
    return findMaster(this.islands, island);
  }

  replicas(island: number): ContainerNode[] {
    return findReplicas(this.islands, island);
  }

  node(island: number, index: number): ContainerNode {
    return findNode(this.islands, island, index);
  }

  island(island: number): ContainerIsland {
    return findIsland(this.islands, island);
  }

  stopNode(node: ContainerNode): Promise<void> {
    return node.stop("fast");
  }

  killNode(node: ContainerNode): Promise<void> {
    return node.stop("immediate");
  }

  startNode(node: ContainerNode): Promise<void> {
    return node.start();
  }

  async restartNode(node: ContainerNode): Promise<void> {
    await node.stop("fast");
    await node.start();
  }

  async promote(replica: ContainerNode): Promise<void> {
    await replica.promote();
    await waitUntilPromoted(replica);
    const user = replica.connection().user;
    for (const other of this.island(replica.island).nodes) {
      if (other === replica || other.role !== "replica" || other.status !== "running") continue;
      const conninfo = [
        `host=${replica.alias}`,
        `port=${CONTAINER_PORT}`,
        `user=${quoteConninfoValue(user)}`,
        `passfile=${PASSFILE}`,
        `application_name=${other.name}`,
      ].join(" ");
      await followMaster(other, replica, conninfo);
    }
  }

  async waitForReplication(island?: number, timeoutMs = 30_000): Promise<void> {
    const islands = island === undefined ? this.islands : [this.island(island)];
    await Promise.all(
      islands.map(({ island: number }) =>
        waitForReplay(this.master(number), this.replicas(number), timeoutMs),
      ),
    );
  }

  pauseReplay(replica: ContainerNode): Promise<void> {
    return pauseReplay(replica);
  }

  resumeReplay(replica: ContainerNode): Promise<void> {
    return resumeReplay(replica);
  }

  /** Removes every container with its data volume, then the network. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    await removeAll(this.nodes.map((n) => n.container));
    await this.network.stop().catch(() => undefined);
    this.#state = "stopped";
  }
}

/** @throws DockerUnavailableError when no container engine answers. */
export async function startContainerCluster(
  options: ContainerClusterOptions = {},
): Promise<ContainerCluster> {
  const shape = resolveShape(options);
  const runtime = await connectContainerRuntime();
  const tc = await loadTestcontainers();
  const setup: Setup = {
    tc,
    runtime,
    image: options.image ?? "postgres:15",
    startupTimeoutMs: options.startupTimeoutMs ?? 120_000,
    settingsArgs: containerSettingsArgs(options.settings),
    credentials: shape.credentials,
    network: await new tc.Network().start(),
  };
  const started: StartedTestContainer[] = [];
  try {
    const perIsland = 1 + shape.replicasPerIsland;
    const ports = await freePorts(shape.islands * perIsland);
    const portOf = (island: number, index: number) =>
      ports[(island - 1) * perIsland + index] as number;

    const islandNumbers = Array.from({ length: shape.islands }, (_, i) => i + 1);
    const masters = await Promise.all(
      islandNumbers.map(async (island) => {
        const container = await startMaster(setup, island, portOf(island, 0));
        started.push(container);
        return new ContainerNode(
          island,
          0,
          portOf(island, 0),
          "master",
          container,
          runtime,
          shape.credentials,
        );
      }),
    );
    const islands: ContainerIsland[] = await Promise.all(
      masters.map(async (master) => {
        const replicas = await Promise.all(
          Array.from({ length: shape.replicasPerIsland }, async (_, i) => {
            const index = i + 1;
            const port = portOf(master.island, index);
            const container = await startReplica(setup, master, index, port);
            started.push(container);
            return new ContainerNode(
              master.island,
              index,
              port,
              "replica",
              container,
              runtime,
              shape.credentials,
            );
          }),
        );
        return { island: master.island, nodes: [master, ...replicas] };
      }),
    );

    const config = parseClusterConfig({
      idEnvironment: shape.idEnvironment,
      islands: islands.map((island) => ({
        island: island.island,
        nodes: island.nodes.map((node) => ({ name: node.name, ...node.connection() })),
      })),
    });
    const id = `containers-${randomBytes(4).toString("hex")}`;
    return new ContainerCluster(id, islands, config, setup.network);
  } catch (error) {
    await removeAll(started);
    await setup.network.stop().catch(() => undefined);
    throw error;
  }
}

interface Setup {
  readonly tc: TestcontainersModule;
  readonly runtime: ContainerRuntimeClient;
  readonly image: string;
  readonly startupTimeoutMs: number;
  readonly settingsArgs: readonly string[];
  readonly credentials: NodeCredentials;
  readonly network: StartedNetwork;
}

function startMaster(setup: Setup, island: number, port: number): Promise<StartedTestContainer> {
  const { tc, credentials } = setup;
  return (
    new tc.GenericContainer(setup.image)
      .withNetwork(setup.network)
      .withNetworkAliases(`island${island}-node0`)
      .withExposedPorts({ container: CONTAINER_PORT, host: port })
      .withEnvironment({
        POSTGRES_USER: credentials.user,
        POSTGRES_DB: credentials.database,
        POSTGRES_PASSWORD_FILE: PASSWORD_FILE,
        POSTGRES_INITDB_ARGS: "--encoding=UTF8 --locale=C --no-sync",
      })
      .withCopyContentToContainer([
        { content: credentials.password.reveal(), target: PASSWORD_FILE, mode: 0o600 },
        { content: REPLICATION_INIT_SCRIPT_BODY, target: REPLICATION_INIT_SCRIPT, mode: 0o755 },
      ])
      .withCommand(["postgres", ...setup.settingsArgs])
      // The entrypoint's temporary init server says it once, the real server a second time.
      .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .withStartupTimeout(setup.startupTimeoutMs)
      .start()
  );
}

function startReplica(
  setup: Setup,
  master: ContainerNode,
  index: number,
  port: number,
): Promise<StartedTestContainer> {
  const { tc, credentials } = setup;
  const name = `island${master.island}-node${index}`;
  return new tc.GenericContainer(setup.image)
    .withNetwork(setup.network)
    .withNetworkAliases(name)
    .withExposedPorts({ container: CONTAINER_PORT, host: port })
    .withEnvironment({
      ARCHIPELAGO_MASTER_HOST: master.alias,
      ARCHIPELAGO_USER: credentials.user,
      ARCHIPELAGO_SLOT: slotName({ island: master.island, index }),
      PGPASSFILE: PASSFILE,
      PGAPPNAME: name,
    })
    .withCopyContentToContainer([
      {
        content: passfileLine("*", credentials.user, credentials.password.reveal()),
        target: PASSFILE_SOURCE,
        mode: 0o600,
      },
    ])
    .withEntrypoint(["bash", "-c", REPLICA_ENTRYPOINT_SCRIPT, "archipelago-replica"])
    .withCommand([...setup.settingsArgs])
    .withWaitStrategy(
      tc.Wait.forLogMessage(/database system is ready to accept read-only connections/),
    )
    .withStartupTimeout(setup.startupTimeoutMs)
    .start();
}

async function removeAll(containers: readonly StartedTestContainer[]): Promise<void> {
  await Promise.allSettled(
    containers.map((c) => c.stop({ remove: true, removeVolumes: true, timeout: 0 })),
  );
}
