export * from "./catalog-install.js";
export * from "./catalog-sqlstates.js";
export * from "./catalog-versions.js";
