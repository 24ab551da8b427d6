export * from "./advisory-locks.js";
export * from "./catalog/index.js";
export * from "./cluster-config.js";
export * from "./errors.js";
export * from "./id.js";
export * from "./microshard.js";
export * from "./microshard-state.js";
export * from "./secret.js";
