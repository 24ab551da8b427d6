/**
 * The operations page (`GET /`, with its script and style) and the JSON it polls (`GET /_ops/status`).
 * The page's three files hold no data, so they are served without the token; the page asks for the
 * token and sends it with every poll. They are read once, at start-up, from `ops-page/` next to the
 * sources (the path is the same from `src/http/` and `dist/http/`, and the package ships `src`).
 */
import { readFileSync } from "node:fs";
import { OpsStatusResponse } from "./http-schemas.js";
import { type OpsStatusDeps, readOpsStatus } from "./ops-status.js";
import { json, type RouteSpec, route } from "./route-spec.js";

const PAGE_DIR = new URL("../../src/http/ops-page/", import.meta.url);

/** Scripts and styles only from this origin, no inline script, no framing. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "referrer-policy": "no-referrer",
};

export function opsRoutes(deps: OpsStatusDeps): RouteSpec[] {
  const file = (name: string) => readFileSync(new URL(name, PAGE_DIR), "utf8");
  const statics = [
    ["/", "index.html", "text/html; charset=utf-8", "The operations page"],
    ["/ops-page.js", "ops-page.js", "text/javascript; charset=utf-8", "The page's script"],
    ["/ops-page.css", "ops-page.css", "text/css; charset=utf-8", "The page's style"],
  ] as const;
  return [
    ...statics.map(([path, name, contentType, summary]) => {
      const body = file(name);
      return route({
        method: "GET",
        path,
        summary,
        public: true,
        responses: { 200: { contentType } },
        handler: async () => ({ status: 200, body, contentType, headers: PAGE_HEADERS }),
      });
    }),
    route({
      method: "GET",
      path: "/_ops/status",
      summary:
        "What the operations page shows: islands, nodes and roles, microshards and sizes, imbalance, live jobs with progress, recent moves",
      responses: { 200: OpsStatusResponse },
      handler: async () => json(await readOpsStatus(deps)),
    }),
  ];
}
