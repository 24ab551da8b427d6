/**
 * The cluster config: which islands exist and how to reach their nodes.
 *
 * Roles are deliberately absent: which node of an island is the master is discovered at run time
 * (`pg_is_in_recovery()`), never configured, so a failover needs no config change. Passwords are wrapped
 * in `Secret` at parse time so that no later `console.log` or error message can print them.
 */
import { z } from "zod";
import { InvalidConfigError } from "./errors.js";
import { Secret } from "./secret.js";

/** How to connect to one PostgreSQL server, after parsing (a DSN is split into these fields). */
export interface NodeConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: Secret | undefined;
  readonly database: string;
  /** A label for logs and status output; defaults to `host:port`. */
  readonly name: string;
}

export interface IslandConfig {
  /** The island number, unique in the cluster (1, 2, …). */
  readonly island: number;
  /** Every node of the island, master and replicas, in any order. */
  readonly nodes: readonly NodeConfig[];
  /** Relative capacity for the planner; an island of weight 2 should hold twice the data. */
  readonly weight: number;
  /** A draining island receives no microshards and is emptied by the rebalancer. */
  readonly draining: boolean;
}

export interface ClusterConfig {
  readonly islands: readonly IslandConfig[];
  /** The island whose master holds shard 0 (`sh0000`) and the control catalog. */
  readonly globalIsland: number;
  /** The leading digit of every ID this cluster generates (1..8); see `id.ts`. */
  readonly idEnvironment: number;
}

const portSchema = z.number().int().min(1).max(65535);
const identifierSchema = z.string().min(1).max(63);

const nodeFieldsSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: portSchema.default(5432),
  user: identifierSchema,
  password: z.string().optional(),
  database: identifierSchema,
  name: z.string().min(1).optional(),
});

const nodeDsnSchema = z.strictObject({
  dsn: z.string().min(1),
  name: z.string().min(1).optional(),
});

type NodeInput = z.input<typeof nodeFieldsSchema> | z.input<typeof nodeDsnSchema>;

// The branch is chosen by the presence of `dsn` rather than with `z.union`, so that an error inside a
// node names its field (`islands[0].nodes[1].port`) instead of a vague "invalid input" for the node.
const nodeSchema = z.unknown().transform((value, ctx): NodeConfig => {
  const isDsn = typeof value === "object" && value !== null && "dsn" in value;
  const parsed = (isDsn ? nodeDsnSchema : nodeFieldsSchema).safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    }
    return z.NEVER;
  }
  const node = parsed.data;
  if ("dsn" in node) return parseDsn(node.dsn, node.name, ctx);
  return {
    host: node.host,
    port: node.port,
    user: node.user,
    password: node.password === undefined ? undefined : new Secret(node.password),
    database: node.database,
    name: node.name ?? `${node.host}:${node.port}`,
  };
}) as unknown as z.ZodType<NodeConfig, NodeInput>;

const islandSchema = z.strictObject({
  island: z.number().int().min(1).max(999_999),
  nodes: z.array(nodeSchema).min(1, "an island needs at least one node"),
  weight: z.number().positive().default(1),
  draining: z.boolean().default(false),
});

const clusterSchema = z
  .strictObject({
    islands: z.array(islandSchema).min(1, "a cluster needs at least one island"),
    globalIsland: z.number().int().min(1).optional(),
    idEnvironment: z.number().int().min(1).max(8).default(1),
  })
  .superRefine((cluster, ctx) => {
    const seen = new Set<number>();
    cluster.islands.forEach((island, index) => {
      if (seen.has(island.island)) {
        ctx.addIssue({
          code: "custom",
          path: ["islands", index, "island"],
          message: `island number ${island.island} appears twice`,
        });
      }
      seen.add(island.island);
    });
    if (cluster.globalIsland !== undefined && !seen.has(cluster.globalIsland)) {
      ctx.addIssue({
        code: "custom",
        path: ["globalIsland"],
        message: `island ${cluster.globalIsland} is not in "islands"`,
      });
    }
  })
  .transform(
    (cluster): ClusterConfig => ({
      islands: cluster.islands,
      // biome-ignore lint/style/noNonNullAssertion: `islands` has at least one element (checked above).
      globalIsland: cluster.globalIsland ?? cluster.islands[0]!.island,
      idEnvironment: cluster.idEnvironment,
    }),
  );

/** The config as a user writes it (JSON file, object literal); validated by `parseClusterConfig`. */
export type ClusterConfigInput = z.input<typeof clusterSchema>;

/**
 * Validates a cluster config and returns it normalized (defaults filled, DSNs split, passwords wrapped).
 * @throws InvalidConfigError naming every invalid field.
 */
export function parseClusterConfig(input: unknown): ClusterConfig {
  const result = clusterSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidConfigError(
    result.error.issues.map((issue) => ({
      path: issue.path
        .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
        .join("")
        .replace(/^\./, ""),
      message: redactMessage(issue.message),
    })),
  );
}

/**
 * The config back in its input shape, e.g. to write a config file. Passwords stay `******` unless
 * `revealPasswords` is set, which only a file written with owner-only permissions should use.
 */
export function serializeClusterConfig(
  config: ClusterConfig,
  options: { revealPasswords?: boolean } = {},
): ClusterConfigInput {
  return {
    globalIsland: config.globalIsland,
    idEnvironment: config.idEnvironment,
    islands: config.islands.map((island) => ({
      island: island.island,
      weight: island.weight,
      draining: island.draining,
      nodes: island.nodes.map((node) => ({
        name: node.name,
        host: node.host,
        port: node.port,
        user: node.user,
        database: node.database,
        ...(node.password === undefined
          ? {}
          : { password: options.revealPasswords ? node.password.reveal() : "******" }),
      })),
    })),
  };
}

/** The island of a cluster by number, or undefined. */
export function findIsland(config: ClusterConfig, island: number): IslandConfig | undefined {
  return config.islands.find((i) => i.island === island);
}

function parseDsn(dsn: string, name: string | undefined, ctx: z.RefinementCtx): NodeConfig {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    ctx.addIssue({ code: "custom", path: ["dsn"], message: "dsn is not a valid postgres:// URL" });
    return z.NEVER;
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    const scheme = url.protocol.replace(/:$/, "");
    ctx.addIssue({
      code: "custom",
      path: ["dsn"],
      message: `dsn must use the postgres scheme, not "${scheme}"`,
    });
    return z.NEVER;
  }
  const port = url.port === "" ? 5432 : Number(url.port);
  if (!portSchema.safeParse(port).success) {
    ctx.addIssue({ code: "custom", path: ["dsn"], message: "dsn port must be 1..65535" });
    return z.NEVER;
  }
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (user === "") ctx.addIssue({ code: "custom", path: ["dsn"], message: "dsn has no user" });
  if (database === "")
    ctx.addIssue({ code: "custom", path: ["dsn"], message: "dsn has no database" });
  if (user === "" || database === "") return z.NEVER;
  const host = url.hostname || "127.0.0.1";
  return {
    host,
    port,
    user,
    password: url.password === "" ? undefined : new Secret(decodeURIComponent(url.password)),
    database,
    name: name ?? `${host}:${port}`,
  };
}

/** zod echoes received values in some messages; a config message must never carry a password. */
function redactMessage(message: string): string {
  return message.replace(/postgres(ql)?:\/\/\S*/g, "postgres://…");
}
