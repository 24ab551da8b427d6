import { defineConfig } from "vitest/config";

// Integration tests start real PostgreSQL clusters (several processes each); on a 2-core machine two
// files at a time keeps start-up fast without starving the servers.
export default defineConfig({
  resolve: { conditions: ["development"] },
  ssr: { resolve: { conditions: ["development"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["./packages/testkit/src/vitest-global-setup.ts"],
    typecheck: { enabled: true, include: ["**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
  },
});
