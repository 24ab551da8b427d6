export { DEFAULT_HTTP_HOST, type HttpAddress, parseHttpAddress } from "./http-address.js";
export { BearerAuth, MIN_TOKEN_LENGTH } from "./http-auth.js";
export { ERROR_STATUS } from "./http-errors.js";
export * as httpSchemas from "./http-schemas.js";
export { createHttpServer, type HttpServerDeps } from "./http-server.js";
export { jobJson } from "./job-json.js";
export {
  createManagerHttp,
  type ManagerHttp,
  type ManagerHttpOptions,
  startManagerHttp,
} from "./manager-http.js";
export { type ClientCounters, ManagerMetrics, type MetricsSource } from "./manager-metrics.js";
export { openApiDocument } from "./openapi-document.js";
export { type OpsStatus, opsStatusJson, readOpsStatus } from "./ops-status.js";
export { type RouteSpec, route } from "./route-spec.js";
