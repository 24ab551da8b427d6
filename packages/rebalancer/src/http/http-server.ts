/**
 * The HTTP server that carries the route specs: bearer auth on every route not marked public, 405
 * with `Allow` for a known path asked with another method, 404 as JSON, and every error answered
 * through the status table (http-errors.ts) so bad input is never a 500.
 *
 * Fastify rather than node:http: it brings parameterised routing, JSON body parsing with a size
 * limit and a clear 4xx for malformed, empty or oversized bodies and unsupported media types, and
 * `inject()` for requests without a socket — all of which we would otherwise hand-roll and test.
 */
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { BearerAuth } from "./http-auth.js";
import { answerForError, type ErrorAnswer, errorAnswer } from "./http-errors.js";
import type { Answer, HttpMethod, RouteSpec } from "./route-spec.js";

/** Requests bodies are small JSON documents; anything larger is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const ALL_METHODS: readonly HttpMethod[] = ["GET", "PUT", "POST", "DELETE"];
const OTHER_METHODS = ["PATCH", "OPTIONS"] as const;

export interface HttpServerDeps {
  readonly routes: readonly RouteSpec[];
  /** The bearer token every non-public route requires (at least 16 characters). */
  readonly token: string;
  /** Called with each 5xx answer's error (the CLI prints it); never with request headers. */
  readonly onServerError?: (error: unknown, method: string, url: string) => void;
}

export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const auth = new BearerAuth(deps.token);
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    return503OnClosing: true,
  });

  app.addHook("onRequest", async (request, reply) => {
    const config = request.routeOptions.config as { public?: boolean } | undefined;
    if (config?.public === true) return;
    if (auth.allows(request.headers.authorization)) return;
    const answer = errorAnswer(401, "a bearer token is required (Authorization: Bearer <token>)");
    return reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="archipelago"')
      .send(answer.body);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const answer = answerForError(error);
    if (answer.status >= 500) deps.onServerError?.(error, request.method, request.url);
    return reply.code(answer.status).send(answer.body);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const answer = errorAnswer(
      404,
      `no endpoint ${request.method} ${request.url.split("?")[0]} (see /_reshard/openapi.json)`,
    );
    return reply.code(404).send(answer.body);
  });

  const byPath = new Map<string, RouteSpec[]>();
  for (const spec of deps.routes) byPath.set(spec.path, [...(byPath.get(spec.path) ?? []), spec]);

  for (const [path, specs] of byPath) {
    for (const spec of specs) {
      app.route({
        method: spec.method,
        url: path,
        config: { public: spec.public === true },
        handler: async (request, reply) => {
          const answer: Answer | ErrorAnswer = await spec.run({
            params: request.params,
            query: request.query,
            body: request.body,
          });
          reply.code(answer.status).header("cache-control", "no-store");
          reply.header("x-content-type-options", "nosniff");
          if ("headers" in answer && answer.headers) reply.headers(answer.headers);
          const contentType = "contentType" in answer ? answer.contentType : undefined;
          if (contentType) return reply.type(contentType).send(answer.body);
          return reply.type("application/json; charset=utf-8").send(JSON.stringify(answer.body));
        },
      });
    }
    const allowed = specs.map((s) => s.method);
    const others = [...ALL_METHODS.filter((m) => !allowed.includes(m)), ...OTHER_METHODS];
    const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : [])].join(", ");
    app.route({
      method: others,
      url: path,
      // A wrong method on a public path says so without a token; it reveals nothing new.
      config: { public: specs.every((s) => s.public === true) },
      handler: async (request, reply) => {
        const answer = errorAnswer(405, `${request.method} is not allowed here; use ${allow}`);
        return reply.code(405).header("allow", allow).send(answer.body);
      },
    });
  }
  return app;
}

/** Listens and returns the server's base URL (`http://127.0.0.1:PORT`). */
export async function listen(
  app: FastifyInstance,
  options: { host: string; port: number },
): Promise<string> {
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
