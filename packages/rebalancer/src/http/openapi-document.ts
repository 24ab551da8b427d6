/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route specs and their zod schemas
 * (OpenAPI 3.1 takes JSON Schema 2020-12, which is what `z.toJSONSchema` emits). Pure.
 */
import { z } from "zod";
import type { RouteSpec } from "./route-spec.js";

export function openApiDocument(routes: readonly RouteSpec[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  // Schemas with a `.meta({ id })` become named components, referenced from every use.
  const components: Record<string, object> = {};
  const schemaOf = (schema: z.ZodType, io: "input" | "output") =>
    jsonSchema(schema, io, components);
  const objectProperties = (schema: z.ZodType | undefined, io: "input" | "output") =>
    Object.entries(
      (schema ? (schemaOf(schema, io) as { properties?: Record<string, object> }) : {})
        .properties ?? {},
    );
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    const parameters = [
      ...objectProperties(r.params, "input").map(([name, schema]) => ({
        name,
        in: "path",
        required: true,
        schema,
      })),
      ...objectProperties(r.query, "input").map(([name, schema]) => ({
        name,
        in: "query",
        required: false,
        schema,
      })),
    ];
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, answer]) => [
        status,
        {
          description: status.startsWith("2") ? "OK" : "error",
          content:
            "contentType" in answer
              ? { [answer.contentType]: {} }
              : { "application/json": { schema: schemaOf(answer, "output") } },
        },
      ]),
    );
    paths[path] ??= {};
    (paths[path] as Record<string, object>)[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schemaOf(r.body, "input") } },
            },
          }
        : {}),
      responses: {
        ...responses,
        ...(r.public ? {} : { 401: { description: "no or wrong bearer token" } }),
      },
      ...(r.public ? { security: [] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Archipelago shard manager",
      version,
      description:
        "Jobs (`/_reshard`, after CouchDB's), metrics and the operations page of an `archipelago manager`.",
    },
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

function jsonSchema(
  schema: z.ZodType,
  io: "input" | "output",
  components: Record<string, object>,
): object {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  const rewritten = JSON.parse(
    JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as Record<string, unknown> & { $defs?: Record<string, object> };
  const { $schema: _drop, $defs, ...rest } = rewritten;
  Object.assign(components, $defs ?? {});
  return rest;
}
