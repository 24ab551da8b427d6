/**
 * The shard manager's HTTP server, assembled: `/_reshard` (jobs), `/_reshard/openapi.json`,
 * `/metrics`, and the operations page. `archipelago manager --http` starts it; an app that embeds a
 * Manager can start it the same way:
 *
 *   const metrics = new ManagerMetrics();
 *   const manager = new Manager({ config, masters, onEvent: metrics.onEvent,
 *                                 onMoveProgress: metrics.onMoveProgress }).start();
 *   const http = await startManagerHttp({ config, masters, control: manager.control,
 *                                         isLeader: () => manager.isLeader, metrics, token,
 *                                         host: "127.0.0.1", port: 8080 });
 */
import { readFileSync } from "node:fs";
import type { IslandMasters } from "@archipelago/migrate";
import type { ClusterConfig } from "@archipelago/topology";
import type { FastifyInstance } from "fastify";
import type { JobControl } from "../jobs/job-control.js";
import { DEFAULT_HTTP_HOST } from "./http-address.js";
import { createHttpServer, listen } from "./http-server.js";
import { ManagerMetrics } from "./manager-metrics.js";
import { openApiDocument } from "./openapi-document.js";
import { opsRoutes } from "./ops-routes.js";
import { reshardRoutes } from "./reshard-routes.js";
import { type RouteSpec, route } from "./route-spec.js";

export interface ManagerHttpOptions {
  readonly config: ClusterConfig;
  readonly masters: IslandMasters;
  readonly control: JobControl;
  readonly token: string;
  /** Fed by the Manager's events (pass `metrics.onEvent` / `onMoveProgress`); a fresh one if omitted. */
  readonly metrics?: ManagerMetrics;
  /** Whether the manager in this process leads (the `archipelago_manager_leader` gauge). */
  readonly isLeader?: () => boolean;
  readonly onServerError?: (error: unknown, method: string, url: string) => void;
}

export interface ManagerHttp {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly metrics: ManagerMetrics;
  close(): Promise<void>;
}

/** The server with every route, not listening (tests use `app.inject`). */
export function createManagerHttp(options: ManagerHttpOptions): {
  app: FastifyInstance;
  metrics: ManagerMetrics;
} {
  const metrics = (options.metrics ?? new ManagerMetrics()).bind({
    control: options.control,
    ...(options.isLeader ? { isLeader: options.isLeader } : {}),
  });
  const routes: RouteSpec[] = [
    ...reshardRoutes(options.control),
    route({
      method: "GET",
      path: "/metrics",
      summary: "Prometheus metrics",
      responses: { 200: { contentType: "text/plain; version=0.0.4" } },
      handler: async () => ({
        status: 200,
        body: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      }),
    }),
    ...opsRoutes({
      config: options.config,
      masters: options.masters,
      control: options.control,
      progress: metrics.progress,
    }),
  ];
  const withDocument = [
    ...routes,
    route({
      method: "GET",
      path: "/_reshard/openapi.json",
      summary: "This API's OpenAPI 3.1 document",
      responses: { 200: { contentType: "application/json" } },
      handler: async () => ({ status: 200, body: document }),
    }),
  ];
  const document = openApiDocument(withDocument, packageVersion());
  const app = createHttpServer({
    routes: withDocument,
    token: options.token,
    ...(options.onServerError ? { onServerError: options.onServerError } : {}),
  });
  return { app, metrics };
}

export async function startManagerHttp(
  options: ManagerHttpOptions & { readonly host?: string; readonly port: number },
): Promise<ManagerHttp> {
  const { app, metrics } = createManagerHttp(options);
  const url = await listen(app, { host: options.host ?? DEFAULT_HTTP_HOST, port: options.port });
  return { url, app, metrics, close: () => app.close() };
}

function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
