#!/usr/bin/env node
// The `archipelago-local` command. A built package runs dist/cli.js; in the workspace, where nothing is
// built, it runs the TypeScript source through tsx, resolving workspace packages to their sources
// (the `development` export condition), like the tests do.
import { existsSync } from "node:fs";
import { register } from "node:module";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/cli.js", import.meta.url);
let cli;
if (existsSync(fileURLToPath(built))) {
  cli = await import(built.href);
} else {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  register("./development-condition.js", import.meta.url);
  cli = await import(new URL("../src/cli.ts", import.meta.url).href);
}
process.exitCode = await cli.main(process.argv);
