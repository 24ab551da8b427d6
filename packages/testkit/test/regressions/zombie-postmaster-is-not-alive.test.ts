/**
 * Regression: `isAlive` counted a zombie as alive. A postmaster that exited stays a zombie until init
 * reaps it, so teardown waited for it (up to its 5 s grace period, about 1 s per sweep on this machine)
 * and then sent SIGKILL to a pid that could already have been reused.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { isAlive } from "../../src/cluster-registry.js";

describe.skipIf(process.platform !== "linux")("isAlive", () => {
  it("treats a zombie as gone and a live process as alive", async () => {
    // `sleep 0` exits at once; its parent then execs `sleep 5`, which never reaps it: a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 5"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const line = await new Promise<string>((resolve) =>
        createInterface({ input: parent.stdout }).once("line", resolve),
      );
      const zombie = Number(line);
      const state = () => {
        const stat = readFileSync(`/proc/${zombie}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
      };
      const deadline = Date.now() + 5_000;
      while (state() !== "Z" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(state()).toBe("Z");

      expect(isAlive(zombie)).toBe(false);
      expect(isAlive(parent.pid as number)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
