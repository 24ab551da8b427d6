#!/usr/bin/env node
// The `archipelago` command: dist/cli.js when the package is built; in the workspace, the TypeScript
// source through tsx with workspace packages resolved to their sources (as in testkit's bin).
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
  register(new URL("../../testkit/bin/development-condition.js", import.meta.url));
  cli = await import(new URL("../src/cli.ts", import.meta.url).href);
}
process.exitCode = await cli.main(process.argv);
