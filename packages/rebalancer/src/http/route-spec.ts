/**
 * A route as data: method, path, the zod schemas of its parts, its answers, and a typed handler.
 * The server registers routes from these specs, answers 405 for the other methods on each path, and
 * the OpenAPI document is generated from the same specs.
 *
 * `route()` checks the request against the schemas before the handler runs, so a handler only ever
 * sees valid input and bad input is a 400 naming its fields, never a 500 from deeper down.
 */
import type { z } from "zod";
import { answerForIssues, type ErrorAnswer } from "./http-errors.js";

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** JSON unless given. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RawRequest {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

export interface RouteSpec {
  readonly method: HttpMethod;
  /** Fastify syntax: `/_reshard/jobs/:id`. */
  readonly path: string;
  readonly summary: string;
  /** Served without the bearer token (static files that hold no data). */
  readonly public?: boolean;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** Status → schema of the body (JSON), or a content type for other answers. */
  readonly responses: Readonly<Record<number, z.ZodType | { readonly contentType: string }>>;
  readonly run: (request: RawRequest) => Promise<Answer | ErrorAnswer>;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export function route<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: {
  method: HttpMethod;
  path: string;
  summary: string;
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  responses: RouteSpec["responses"];
  handler: (input: { params: Parsed<P>; query: Parsed<Q>; body: Parsed<B> }) => Promise<Answer>;
}): RouteSpec {
  const { handler, ...meta } = spec;
  return {
    ...meta,
    run: async (request) => {
      const parts = [
        ["path", spec.params, request.params],
        ["query", spec.query, request.query ?? {}],
        ["body", spec.body, request.body],
      ] as const;
      const parsed: Record<string, unknown> = {};
      for (const [where, schema, value] of parts) {
        if (!schema) continue;
        const result = schema.safeParse(value);
        if (!result.success) return answerForIssues(where, result.error.issues);
        parsed[where] = result.data;
      }
      return handler({
        params: parsed.path as Parsed<P>,
        query: parsed.query as Parsed<Q>,
        body: parsed.body as Parsed<B>,
      });
    },
  };
}

export function json(body: unknown, status = 200): Answer {
  return { status, body };
}
